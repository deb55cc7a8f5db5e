"""Issue 12 in real Blender: Seamless results that tile whatever the model returns, PBR maps
from a texture wired into its material, real-world mapping with a tile size, box projection
for objects without UVs, and material presets written into the prompt.

Renders use Cycles on the CPU at 64-96 px with 4 samples (about 0.3 s each): Workbench
ignores the node tree's Mapping and box projection, so it cannot show them."""
from __future__ import annotations

import base64
import importlib
import math
import sys
from pathlib import Path

import bpy
import numpy as np
import pytest
from conftest import MODULE
from fake_gemini import R
from fake_gemini.pngenc import encode_png_rgb
from helpers import history_sidecars, nb_images, status, texture_on, user_parts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from texture_samples import stone, with_lighting  # noqa: E402

SIZE = 256
# 2 x 2 checker cells per tile, cell borders inside the image (16 px from the wrap): it tiles
CHECKER = np.roll(np.kron([[1, 0], [0, 1]], np.ones((32, 32))), 16, axis=(0, 1))[..., None] * np.full(3, 200) + 30


def core(name: str):
    return importlib.import_module(f"{MODULE}.core.{name}")


def png(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr[..., :3].astype(np.uint8))
    return encode_png_rgb(arr.shape[1], arr.shape[0], arr.tobytes())


class Answer(R.Image):
    """The fake's image answer (usage, signatures, ...) with pixels of our choosing."""

    def __init__(self, arr: np.ndarray, **kw):
        super().__init__(**kw)
        self.data = png(arr)

    def _encode(self, seed, w, h):
        return "image/png", base64.b64encode(self.data).decode("ascii")


def top_down(img: bpy.types.Image) -> np.ndarray:
    """uint8 H x W x 3, first row = top of the picture (as the PNG the fake sent)."""
    w, h = img.size
    buf = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(buf)
    return np.rint(buf.reshape(h, w, 4)[::-1, :, :3] * 255).astype(np.uint8)


def bottom_up(img: bpy.types.Image) -> np.ndarray:
    w, h = img.size
    buf = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(buf)
    return buf.reshape(h, w, 4)


def result_material() -> bpy.types.Material:
    return bpy.data.objects["Cube"].active_material


def base_texture(mat) -> bpy.types.Node:
    return next(n for n in mat.node_tree.nodes if n.type == "TEX_IMAGE" and "nanobanana_entry" in n.image.keys())


def assert_tiles_and_keeps_centre(result: np.ndarray, raw: np.ndarray, band: int) -> None:
    tiling = core("tiling")
    score = tiling.tileability(result)
    # the wrap seams are no stronger than a step between neighbouring pixels inside
    assert score.wrap_x <= score.limit_x + 1e-4 and score.wrap_y <= score.limit_y + 1e-4, score
    assert score.ratio <= tiling.TOLERANCE, score
    assert np.array_equal(result[band:-band, band:-band], raw[band:-band, band:-band])   # the model's own


@pytest.fixture
def seamless_scene(fake, scene):
    s = scene.nanobanana
    s.seamless, s.aspect_ratio, s.result_target, s.tile_size = True, "1:1", "MATERIAL", 1.0
    raw = with_lighting(stone(SIZE, SIZE, seed=21, tiles=False))    # natural texture, does not wrap
    assert not core("tiling").tileability(raw).tiles
    return s, raw


def test_seamless_local_fix_tiles_with_no_extra_request(fake, seamless_scene):
    s, raw = seamless_scene
    s.seamless_fix = "LOCAL"
    fake.script(Answer(raw))
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert len(fake.generate_requests) == 1                                   # zero extra requests
    mat = result_material()
    img = base_texture(mat).image
    assert_tiles_and_keeps_centre(top_down(img), raw, core("tiling").default_band(SIZE, SIZE))
    assert "Tiles: seams" in status().text and "local cross-blend" in status().text
    assert status().level == "INFO"
    cars = {c["id"]: c for c in history_sidecars()}
    fixed = cars[img["nanobanana_entry"]]                                     # what landed is the 2nd pass
    assert fixed["seamless_fix"] == "LOCAL" and fixed["tileability_after"] < fixed["tileability_before"]
    assert fixed["raw_entry"] in cars and "seamless_fix" not in cars[fixed["raw_entry"]]   # both passes kept


def test_seamless_model_repair_sends_one_request_and_keeps_the_model_pixels(fake, seamless_scene):
    s, raw = seamless_scene
    s.seamless_fix = "MODEL"
    repaired = stone(SIZE, SIZE, seed=22)      # the "model" answers with texture continuous across the cross
    fake.script(Answer(raw), Answer(repaired))
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert len(fake.generate_requests) == 2                                   # exactly one extra request
    repair = user_parts(fake.generate_requests[1])
    assert core("tiling").REPAIR_PROMPT in repair[0]["text"]
    assert sum(1 for p in repair if "inlineData" in p) == 2                   # the shifted image + the mask
    img = base_texture(result_material()).image
    assert_tiles_and_keeps_centre(top_down(img), raw, core("seamless").repair_band(SIZE, SIZE))
    assert "model seam repair" in status().text
    fixed = next(c for c in history_sidecars() if c.get("id") == img["nanobanana_entry"])
    assert fixed["seamless_fix"] == "MODEL" and fixed["fix_cost_usd"] > 0


def test_seamless_result_gets_object_mapping_and_tile_size_changes_the_tile_count(fake, scene, tmp_path):
    s = scene.nanobanana
    s.seamless, s.seamless_fix, s.aspect_ratio, s.tile_size = True, "LOCAL", "1:1", 1.0
    fake.script(Answer(CHECKER))                                              # tiles already: kept as is
    plane = _top_view_plane(scene)
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    mat = plane.active_material
    mapping = mat.node_tree.nodes[mat["nanobanana_mapping"]]
    tex = base_texture(mat)
    coord = mat.node_tree.nodes[mat["nanobanana_texcoord"]]
    assert tex.projection == "BOX" and math.isclose(tex.projection_blend, 0.2, abs_tol=1e-6)
    assert tex.inputs["Vector"].links[0].from_node == mapping
    assert mapping.inputs["Vector"].links[0].from_socket == coord.outputs["Object"]
    assert tuple(mapping.inputs["Scale"].default_value) == pytest.approx((1.0, 1.0, 1.0))
    edges_1m = _edges(_render(scene, tmp_path))
    s.tile_size = 0.5                                                         # the update re-scales the node
    assert tuple(mapping.inputs["Scale"].default_value) == pytest.approx((2.0, 2.0, 2.0))
    edges_half = _edges(_render(scene, tmp_path))
    assert edges_1m >= 3 and edges_half >= 1.7 * edges_1m, (edges_1m, edges_half)


def test_objects_without_uvs_get_box_projection_without_seamless(fake, scene, tmp_path):
    s = scene.nanobanana
    s.seamless, s.aspect_ratio, s.tile_size = False, "1:1", 1.0
    plane = _top_view_plane(scene)
    while plane.data.uv_layers:
        plane.data.uv_layers.remove(plane.data.uv_layers[0])
    fake.script(Answer(CHECKER))
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    mat = plane.active_material
    tex = base_texture(mat)
    assert tex.projection == "BOX" and "nanobanana_mapping" in mat.keys()
    shown = _render(scene, tmp_path)
    assert _edges(shown) >= 3 and shown.std() > 0.2            # the checker, not one stretched texel


def test_pbr_maps_point_the_right_way_tile_and_are_wired(fake, scene, tmp_path):
    s = scene.nanobanana
    s.pbr_ao, s.pbr_strength = True, 2.0
    plane = _top_view_plane(scene)
    n = 128
    y, x = np.mgrid[0:n, 0:n]                                  # y = Blender row: 0 at the bottom, rising up
    lum = 0.5 + 0.2 * np.sin(2 * np.pi * x / 32) + 0.2 * np.sin(2 * np.pi * y / 32)
    src = bpy.data.images.new("bumps", n, n)                   # generated + painted: the pixel-copy path
    px = np.ones((n, n, 4), np.float32)
    px[..., :3] = lum[..., None]
    src.pixels.foreach_set(px.ravel())
    mat = bpy.data.materials.new("Bumps")
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    tree = mat.node_tree
    bsdf = next(nd for nd in tree.nodes if nd.type == "BSDF_PRINCIPLED")
    base = tree.nodes.new("ShaderNodeTexImage")
    base.image = src
    base.location = (bsdf.location.x - 400, bsdf.location.y)
    tree.links.new(base.outputs["Color"], bsdf.inputs["Base Color"])
    tree.nodes.active = base
    plane.data.materials.append(mat)
    bpy.context.view_layer.objects.active = plane
    _sun(scene)
    before = _render(scene, tmp_path, size=64)

    assert bpy.ops.nanobanana.pbr_maps() == {"FINISHED"}
    assert fake.generate_requests == []                        # free and offline
    assert "PBR maps of 'bumps'" in status().text and "tileable like the source" in status().text
    maps = {k: bpy.data.images[f"bumps {k}"] for k in ("height", "normal", "roughness", "ao")}
    for img in maps.values():
        assert img.colorspace_settings.name == "Non-Color" and tuple(img.size) == (n, n)
    normal = bottom_up(maps["normal"])
    # Blender tangent space: +X right (U), +Y up (V). Height rising to +X tilts the normal to -X.
    assert normal[8, 0, 0] < 0.45 and normal[8, 16, 0] > 0.55    # x = 0 rising, x = 16 falling (y = 8: flat in y)
    assert normal[0, 8, 1] < 0.45 and normal[16, 8, 1] > 0.55    # y = 0 rising upwards, y = 16 falling
    assert abs(normal[8, 8, 0] - 0.5) < 0.05                      # crest in x: no tilt
    tiling = core("tiling")
    for k in ("height", "normal", "roughness"):
        assert tiling.tileability(bottom_up(maps[k])[..., :3]).tiles, k
    links = {(lk.from_node.type, lk.to_node.type, lk.to_socket.name) for lk in tree.links}
    assert ("BUMP", "BSDF_PRINCIPLED", "Normal") in links and ("NORMAL_MAP", "BUMP", "Normal") in links
    assert ("TEX_IMAGE", "NORMAL_MAP", "Color") in links and ("TEX_IMAGE", "BUMP", "Height") in links
    assert ("TEX_IMAGE", "BSDF_PRINCIPLED", "Roughness") in links
    by_image = {nd.image.name: nd for nd in tree.nodes if nd.type == "TEX_IMAGE"}
    assert not by_image["bumps ao"].outputs["Color"].is_linked      # AO: an image node, not connected
    assert tree.nodes.get("Principled BSDF").inputs["Base Color"].links[0].from_node == base
    after = _render(scene, tmp_path, size=64)
    assert np.abs(after - before).mean() > 0.01                  # the maps change the shading
    count = len(tree.nodes)
    assert bpy.ops.nanobanana.pbr_maps() == {"FINISHED"}        # again: the set is replaced, not stacked
    assert len(tree.nodes) == count


def test_pbr_of_a_saved_texture_reads_its_file_in_under_50_ms(fake, scene, tmp_path):
    src = bpy.data.images.new("stonefile", SIZE, SIZE)
    px = np.ones((SIZE, SIZE, 4), np.float32)
    px[..., :3] = stone(SIZE, SIZE, seed=5)[::-1] / 255.0
    src.pixels.foreach_set(px.ravel())
    src.filepath_raw, src.file_format = str(tmp_path / "stone.png"), "PNG"
    src.save()
    src.reload()
    mat, _node = texture_on(bpy.data.objects["Cube"], src, "Stone")
    assert bpy.ops.nanobanana.pbr_maps() == {"FINISHED"}
    ops = sys.modules[f"{MODULE}.blender.material_ops"]
    assert ops.LAST_MAIN_THREAD_MS[0] < 50
    assert bpy.data.images["stonefile normal"].colorspace_settings.name == "Non-Color"
    bsdf = next(nd for nd in mat.node_tree.nodes if nd.type == "BSDF_PRINCIPLED")
    assert bsdf.inputs["Roughness"].is_linked and bsdf.inputs["Normal"].is_linked


def test_material_preset_fills_the_prompt_visibly(fake, scene):
    s = scene.nanobanana
    presets = core("presets")
    s.prompt, s.seamless = "mossy granite", True
    s.material_preset = "stone"
    assert s.prompt.startswith("mossy granite. Texture for a physically based material")
    assert presets.SEAMLESS not in s.prompt                   # the Seamless toggle adds its own wording
    s.seamless = False
    assert s.prompt.endswith(presets.SEAMLESS)
    s.material_preset = "wood"                                # replaced, not stacked
    assert s.prompt.count("Texture for a physically based material") == 1 and "wooden boards" in s.prompt
    s.material_preset = "NONE"
    assert s.prompt == "mossy granite"
    s.material_preset = "brick"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    sent = user_parts(fake.generate_requests[-1])[0]["text"]
    assert "laid bricks with mortar joints" in sent and nb_images()


# ---------------------------------------------------------------- scene helpers
def _top_view_plane(scene) -> bpy.types.Object:
    """A 2 m plane (with UVs) under an orthographic camera that sees exactly it; the plane
    is selected and active, the cube hidden from the render."""
    bpy.data.objects["Cube"].hide_render = True
    bpy.data.objects["Cube"].select_set(False)
    bpy.ops.mesh.primitive_plane_add(size=2)
    plane = bpy.context.active_object
    plane.select_set(True)
    cam = scene.camera
    cam.location, cam.rotation_euler = (0, 0, 3), (0, 0, 0)
    cam.data.type, cam.data.ortho_scale = "ORTHO", 2.0
    world = bpy.data.worlds.new("White")
    if bpy.app.version < (5, 0, 0):
        world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (1, 1, 1, 1)
    scene.world = world
    return plane


def _sun(scene) -> None:
    scene.world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.05
    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    sun.data.energy = 4.0
    sun.rotation_euler = (math.radians(70), 0, math.radians(30))     # grazing light shows relief
    scene.collection.objects.link(sun)


def _render(scene, tmp_path, size: int = 96) -> np.ndarray:
    """Cycles CPU render (Standard view transform) -> H x W grey, 0..1."""
    r = scene.render
    r.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples, scene.cycles.seed = "CPU", 4, 0
    r.resolution_x = r.resolution_y = size
    r.resolution_percentage = 100
    scene.view_settings.view_transform = "Standard"
    r.image_settings.file_format = "PNG"
    r.filepath = str(tmp_path / "render.png")
    bpy.ops.render.render(write_still=True, scene=scene.name)
    img = bpy.data.images.load(r.filepath)
    try:
        return bottom_up(img)[..., :3].mean(axis=2)
    finally:
        bpy.data.images.remove(img)


def _edges(grey: np.ndarray) -> int:
    """Sharp light/dark changes along the middle row and column (checker cell borders)."""
    mid = grey.shape[0] // 2
    return int(sum(np.sum(np.abs(np.diff(line)) > 0.25) for line in (grey[mid], grey[:, mid])))
