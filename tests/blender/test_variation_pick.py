"""Issue 15, preview before apply: 2+ variations for a material or a texture node wait as
thumbnails until the artist picks one; the pick lands where the job was meant to go, and
every variation stays in History. With `pick_variation` off the first is applied at once."""
from __future__ import annotations

import bpy
import numpy as np
import pytest
from fake_gemini import expected_pixel
from helpers import addon_module, history_sidecars, nb_images, status
from test_panel import assert_fits, draw_all


def _pixels(img) -> np.ndarray:
    buf = np.empty(img.size[0] * img.size[1] * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return buf


def _seed_of(img, fake) -> int:
    """The fake's seed whose pattern this image shows (each request gets its own)."""
    w, h = img.size
    px = _pixels(img).reshape(h, w, 4)
    found = [r.seed for r in fake.generate_requests
             if all(tuple(int(round(v * 255)) for v in px[h - 1 - y, x, :3]) == expected_pixel(r.seed, x, y, w, h)
                    for x, y in ((0, 0), (5, 7), (40, 20)))]
    assert len(found) == 1, found
    return found[0]


def header_drawn():
    """What the add-on draws into the 3D View's header, through the draw function Blender calls."""
    from conftest import MODULE
    from ui_double import Layout
    header = type("Header", (), {"layout": Layout()})()
    draws = [f for f in bpy.types.VIEW3D_HT_header._dyn_ui_initialize() if f.__module__ == f"{MODULE}.blender.classes.header"]
    assert len(draws) == 1
    draws[0](header, bpy.context)
    return header.layout


@pytest.fixture
def picks():
    import importlib

    from conftest import MODULE
    vp = importlib.import_module(f"{MODULE}.blender.variation_pick")    # loads on first use
    yield vp
    vp.pending().clear()


def test_three_variations_wait_for_a_pick_then_the_second_lands(fake, scene, picks):
    cube = bpy.context.active_object
    s = scene.nanobanana
    s.variations, s.result_target = 3, "MATERIAL"
    materials_before = len(bpy.data.materials)
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    # Nothing on the material yet: all three wait, packed, and all three are in History.
    assert cube.active_material is None and len(bpy.data.materials) == materials_before
    assert len(picks.pending()) == 1 and len(picks.pending()[0].entry_ids) == 3
    assert len(nb_images()) == 3
    ids = set(picks.pending()[0].entry_ids)
    assert ids <= {sc["id"] for sc in history_sidecars() if sc.get("image_file")}
    drawn = draw_all()
    assert_fits(drawn)
    assert [v for op, k, v in drawn.op_props if op == "nanobanana.pick_variation" and k == "index"] == [0, 1, 2]
    assert any("3 variations for 'Cube'" in t for t in drawn.labels)
    # With the sidebar closed: a header button opens the same thumbnails in a popup.
    assert "nanobanana.show_variations" in header_drawn().operators
    from ui_double import Layout
    popup = type("Popup", (), {"layout": Layout()})()
    picks.ShowVariations.draw(popup, bpy.context)
    assert popup.layout.operators.count("nanobanana.pick_variation") == 3

    wanted = picks.pending()[0].entry_ids[1]
    assert bpy.ops.nanobanana.pick_variation(index=1) == {"FINISHED"}
    mat = cube.active_material
    assert mat is not None and len(bpy.data.materials) == materials_before + 1
    tex = next(n for n in mat.node_tree.nodes if n.type == "TEX_IMAGE")
    assert tex.image.get("nanobanana_entry") == wanted
    # Its pixels are variation 2's, not 1's or 3's.
    others = [i for i in nb_images() if i.get("nanobanana_entry") != wanted]
    assert len({_seed_of(tex.image, fake), *(_seed_of(i, fake) for i in others)}) == 3
    assert picks.pending() == [] and "Variation 2 applied to 'Cube'" in status().text
    assert ids <= {sc["id"] for sc in history_sidecars() if sc.get("image_file")}  # History keeps all
    # The waiting box and the header button are gone; a second pick has nothing to pick from.
    assert "nanobanana.pick_variation" not in draw_all().operators
    assert header_drawn().operators == []
    with pytest.raises(RuntimeError, match="no longer waiting"):
        bpy.ops.nanobanana.pick_variation(index=0)


def test_a_texture_node_keeps_its_image_until_a_pick(fake, scene, picks):
    cube = bpy.context.active_object
    original = bpy.data.images.new("Wall", 64, 64)
    mat = addon_module("apply").new_material("Wall", original)
    cube.data.materials.append(mat)
    node = next(n for n in mat.node_tree.nodes if n.type == "TEX_IMAGE")
    mat.node_tree.nodes.active = node
    scene.nanobanana.variations = 2
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    assert node.image == original and len(picks.pending()) == 1
    picked = picks.pending()[0].entry_ids[0]
    assert bpy.ops.nanobanana.pick_variation(index=0) == {"FINISHED"}
    assert node.image.get("nanobanana_entry") == picked and node.image != original


def test_keep_all_applies_nothing(fake, scene, picks):
    cube = bpy.context.active_object
    scene.nanobanana.variations = 2
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert bpy.ops.nanobanana.keep_variations() == {"FINISHED"}
    assert cube.active_material is None and picks.pending() == [] and len(nb_images()) == 2


def test_turned_off_the_first_variation_is_applied_at_once(fake, scene, picks):
    cube = bpy.context.active_object
    scene.nanobanana.variations, scene.nanobanana.pick_variation = 2, False
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert picks.pending() == []
    tex = next(n for n in cube.active_material.node_tree.nodes if n.type == "TEX_IMAGE")
    assert tex.image == nb_images()[0]            # the first variation, as before


def test_one_image_or_image_only_results_are_never_held(fake, scene, picks):
    cube = bpy.context.active_object
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}          # one variation
    assert cube.active_material is not None and picks.pending() == []
    scene.nanobanana.variations, scene.nanobanana.result_target = 3, "IMAGE"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert picks.pending() == [] and len(nb_images()) == 4
