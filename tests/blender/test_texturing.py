"""Issue 11: texture the model. Texture from View and Texture All Around in a real Blender,
against the fake Gemini: the baked texels are checked against the fake's known pattern at
the place Blender itself projects them to (bpy_extras.world_to_camera_view), occlusion
against Blender's own ray casts, never against the add-on's projection code."""
from __future__ import annotations

import sys
import time

import bpy
import numpy as np
import pytest
from bpy_extras.object_utils import world_to_camera_view
from fake_gemini import expected_pixel
from helpers import MODULE, addon_module, expect_error, history_sidecars, user_parts
from mathutils import Matrix, Vector
from ui_double import Layout

FILL = (231, 231, 231)        # unseen texels of an object with no texture (Blender's 0.8 grey)
TOL = 4


def texturing():
    return addon_module("texturing")


def pixels_of(img: bpy.types.Image) -> np.ndarray:
    w, h = img.size
    buf = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(buf)
    return buf.reshape(h, w, 4)          # bottom-up, as Blender stores it


def baked(obj: bpy.types.Object) -> tuple[bpy.types.Image, str]:
    """The image on the object's Nano Banana node and the UV map its UV node reads."""
    tree = obj.active_material.node_tree
    tex, uv = tree.nodes["NB Texture"], tree.nodes["NB UV"]
    bsdf = next(n for n in tree.nodes if n.type == "BSDF_PRINCIPLED")
    assert bsdf.inputs["Base Color"].links[0].from_node == tex
    assert tex.inputs["Vector"].links[0].from_node == uv
    return tex.image, uv.uv_map


def samples(obj: bpy.types.Object, uv_name: str, size: int, steps=(0.2, 0.5, 0.8)):
    """Texel centres inside each (parallelogram) face: (face normal, texel (i, j), world
    point of that texel centre)."""
    me = obj.data
    layer = me.uv_layers[uv_name]
    mw = obj.matrix_world
    for poly in me.polygons:
        loops = list(poly.loop_indices)
        p = [mw @ me.vertices[me.loops[i].vertex_index].co for i in loops]
        uv = [layer.uv[i].vector.copy() for i in loops]
        normal = (mw.to_3x3() @ poly.normal).normalized()
        a, b = uv[1] - uv[0], uv[3] - uv[0]
        det = a.x * b.y - a.y * b.x
        for s in steps:
            for t in steps:
                q = uv[0] + a * s + b * t
                i, j = int(q.x * size), int(q.y * size)
                c = Vector(((i + 0.5) / size, (j + 0.5) / size)) - uv[0]
                s2 = (c.x * b.y - c.y * b.x) / det
                t2 = (a.x * c.y - a.y * c.x) / det
                yield normal, (i, j), p[0] + (p[1] - p[0]) * s2 + (p[3] - p[0]) * t2


def expected_range(scene, cam, point, seed: int, w: int, h: int):
    """Per channel (min, max) of the fake's pattern within a pixel of where Blender
    projects `point` in the camera frame."""
    co = world_to_camera_view(scene, cam, point)
    x, y = co.x * w, (1.0 - co.y) * h
    vals = [expected_pixel(seed, min(w - 1, max(0, int(x + dx))), min(h - 1, max(0, int(y + dy))), w, h)
            for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return np.min(vals, axis=0), np.max(vals, axis=0)


def cos_to(cam, normal, point) -> float:
    if cam.data.type == "ORTHO":
        to_cam = cam.matrix_world.to_3x3() @ Vector((0, 0, 1))
    else:
        to_cam = cam.matrix_world.translation - point
    return normal.dot(to_cam.normalized())


def in_frame(scene, cam, point) -> bool:
    co = world_to_camera_view(scene, cam, point)
    return 0.0 <= co.x <= 1.0 and 0.0 <= co.y <= 1.0


def check_projection(scene, cam, obj, seed, size_wh, hidden=lambda p, n: False):
    """Faces that face the camera carry the pattern at Blender's projection of each texel;
    faces turned away, hidden or out of the frame keep the fill. Returns (seen, unseen)
    sample counts."""
    img, uv_name = baked(obj)
    px = pixels_of(img)
    size = img.size[0]
    seen = unseen = 0
    for normal, (i, j), p in samples(obj, uv_name, size):
        got = np.rint(px[j, i, :3] * 255).astype(int)
        c = cos_to(cam, normal, p)
        hide = hidden(p, normal) if c > 0 else True
        if not in_frame(scene, cam, p):
            assert tuple(got) == FILL, ("out of the frame", normal, p, got)
            unseen += 1
        elif c > 0.35 and hide is False:
            lo, hi = expected_range(scene, cam, p, seed, *size_wh)
            assert np.all(got >= lo - TOL) and np.all(got <= hi + TOL), (normal, p, got, lo, hi)
            seen += 1
        elif c < 0 or hide is True:
            assert tuple(got) == FILL, (normal, p, got)
            unseen += 1
    return seen, unseen


def check_sides(cube, target, reqs) -> int:
    """Each side face of the cube carries the answer of the around-view that faces it
    (`reqs[k]` is view k's recorded request), at the view's projection of each texel.
    Returns the number of texels checked."""
    img, uv_name = baked(cube)
    px = pixels_of(img)
    size = img.size[0]
    sides = {(0, -1): 0, (1, 0): 1, (0, 1): 2, (-1, 0): 3}       # face normal -> the view facing it
    checked = 0
    for normal, (i, j), p in samples(cube, uv_name, size):
        key = (round(normal.x), round(normal.y))
        if abs(normal.z) > 0.5 or sides[key] >= len(reqs):
            continue
        k = sides[key]
        view = target.views[k]
        m = Matrix(view.projection_matrix) @ Matrix(view.view_matrix)
        clip = m @ p.to_4d()
        x, y = (clip.x / clip.w + 1) / 2, (clip.y / clip.w + 1) / 2
        w, h = reqs[k].image_size
        got = np.rint(px[j, i, :3] * 255).astype(int)
        vals = [expected_pixel(reqs[k].seed, min(w - 1, int(x * w + dx)), min(h - 1, int((1 - y) * h + dy)), w, h)
                for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        assert np.all(got >= np.min(vals, 0) - TOL) and np.all(got <= np.max(vals, 0) + TOL), (normal, k, got)
        checked += 1
    return checked


def test_texture_from_view_paints_what_the_camera_sees_and_nothing_else(fake, scene):
    scene.nanobanana.bake_size = "1K"
    cube = bpy.data.objects["Cube"]
    uvs_before = [u.name for u in cube.data.uv_layers]
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    (req,) = fake.generate_requests
    parts = user_parts(req)
    assert "colour texture" in parts[0]["text"] and parts[0]["text"].startswith("a weathered stone wall")
    assert req.body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"   # the camera's frame
    img, uv_name = baked(cube)
    assert uv_name == "UVMap" and [u.name for u in cube.data.uv_layers] == uvs_before
    assert img.name == "NB Texture Cube" and img.packed_file is not None and tuple(img.size) == (1024, 1024)
    seen, unseen = check_projection(scene, scene.camera, cube, req.seed, req.image_size)
    assert seen >= 18 and unseen >= 20           # two faces and most of the top; three faces away
    coverage = texturing().LAST.coverage["Cube"]
    assert 0.4 < coverage < 0.55                 # half the cube's surface faces the camera
    mask = bpy.data.images["NB Texture Cube uncovered"]
    assert mask.colorspace_settings.name == "Non-Color"


@pytest.mark.parametrize("camera", ["ORTHO", "PORTRAIT"])
def test_orthographic_and_portrait_cameras(fake, scene, camera):
    scene.nanobanana.bake_size = "1K"
    if camera == "ORTHO":
        scene.camera.data.type = "ORTHO"
        scene.camera.data.ortho_scale = 4.0          # the top of the cube leaves the frame
    else:
        scene.render.resolution_x, scene.render.resolution_y = 300, 400      # 3:4
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    (req,) = fake.generate_requests
    assert req.body["generationConfig"]["imageConfig"]["aspectRatio"] == ("16:9" if camera == "ORTHO" else "3:4")
    seen, unseen = check_projection(scene, scene.camera, bpy.data.objects["Cube"], req.seed, req.image_size)
    assert seen >= (10 if camera == "ORTHO" else 18) and unseen >= 20


def test_an_existing_texture_stays_where_the_view_does_not_reach_and_revert_restores_it(fake, scene):
    scene.nanobanana.bake_size = "1K"
    cube = bpy.data.objects["Cube"]
    base = bpy.data.images.new("painted", 16, 16)
    base.generated_color = (0.1, 0.3, 0.9, 1.0)
    mat = bpy.data.materials.new("Painted")
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = base
    bsdf = next(n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Roughness"].default_value = 0.123
    mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    cube.data.materials.append(mat)
    want = tuple(int(round(v * 255)) for v in pixels_of(base)[0, 0, :3])
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    new = cube.active_material
    assert new.name == "NB Texture Cube" and new != mat
    assert next(n for n in new.node_tree.nodes if n.type == "BSDF_PRINCIPLED").inputs["Roughness"].default_value \
        == pytest.approx(0.123)                       # a copy of the artist's material
    img, uv_name = baked(cube)
    px = pixels_of(img)
    back = [tuple(np.rint(px[j, i, :3] * 255).astype(int)) for n, (i, j), p in samples(cube, uv_name, 1024)
            if cos_to(scene.camera, n, p) < 0]
    assert back and all(max(abs(a - b) for a, b in zip(t, want, strict=True)) <= 1 for t in back)
    assert bpy.ops.nanobanana.revert_texture_bake() == {"FINISHED"}
    assert cube.active_material == mat and len(cube.material_slots) == 1


def test_occluded_surfaces_get_nothing_where_they_are_hidden(fake, scene):
    """Two selected cubes, one partly behind the other as the camera sees them."""
    scene.nanobanana.bake_size = "1K"
    front = bpy.data.objects["Cube"]
    cam = scene.camera
    bpy.context.view_layer.update()          # the fixture's camera placement -> matrix_world
    toward = (cam.matrix_world.translation - Vector((0, 0, 0))).normalized()
    right = (cam.matrix_world.to_3x3() @ Vector((1, 0, 0))).normalized()
    bpy.ops.mesh.primitive_cube_add(location=-toward * 4.0 + right * 1.8)   # about half hidden
    behind = bpy.context.active_object
    behind.name = "Behind"
    front.select_set(True)
    behind.select_set(True)
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    (req,) = fake.generate_requests
    depsgraph = bpy.context.evaluated_depsgraph_get()
    eye = cam.matrix_world.translation

    def hidden(p, normal):
        """Blender's own ray cast towards the camera, from the point and around it on its
        face: True when every ray hits the other cube, False when none does, None near
        the outline."""
        t1 = normal.orthogonal().normalized()
        t2 = normal.cross(t1)
        hits = []
        for off in (Vector((0, 0, 0)), t1 * 0.06, -t1 * 0.06, t2 * 0.06, -t2 * 0.06):
            origin = p + off
            direction = (eye - origin).normalized()
            ok, _loc, _n, _i, obj, _m = scene.ray_cast(depsgraph, origin + direction * 1e-3, direction)
            hits.append(bool(ok and obj is not None and obj.name == "Cube"))
        return True if all(hits) else False if not any(hits) else None

    seen, unseen = check_projection(scene, cam, behind, req.seed, req.image_size, hidden)
    assert sum(1 for n, _t, p in samples(behind, "UVMap", 1024) if cos_to(cam, n, p) > 0.35 and hidden(p, n)) >= 3
    assert seen >= 5 and unseen >= 20
    assert 0.05 < texturing().LAST.coverage["Behind"] < texturing().LAST.coverage["Cube"]


def test_a_mesh_without_uvs_gets_a_smart_uv_map_and_the_texture(fake, scene):
    scene.nanobanana.bake_size = "1K"
    cube = bpy.data.objects["Cube"]
    cube.data.uv_layers.remove(cube.data.uv_layers[0])
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    assert [u.name for u in cube.data.uv_layers] == ["NB_UV"]
    _img, uv_name = baked(cube)
    assert uv_name == "NB_UV"
    (req,) = fake.generate_requests
    seen, unseen = check_projection(scene, scene.camera, cube, req.seed, req.image_size)
    assert seen >= 18 and unseen >= 20
    assert bpy.context.mode == "OBJECT" and cube.select_get()


def test_the_view_is_the_one_captured_when_the_button_was_pressed(fake, scene):
    """Submit as the UI does (no waiting), move the camera before the answer lands."""
    scene.nanobanana.bake_size = "1K"
    fake.latency = 0.5
    tex, pump = texturing(), addon_module("pump")
    cam = scene.camera
    bpy.context.view_layer.update()
    pressed = cam.matrix_world.copy()
    job = pump.submit(bpy.context, *tex.TextureFromView.build(bpy.context))
    cam.matrix_world = Matrix.Rotation(2.0, 4, "Z") @ pressed        # the artist orbits away
    level, text = pump.wait_and_apply(job)
    assert level == "INFO", text
    cam.matrix_world = pressed
    (req,) = fake.generate_requests
    seen, _unseen = check_projection(scene, cam, bpy.data.objects["Cube"], req.seed, req.image_size)
    assert seen >= 18


def test_cancel_while_texturing_leaves_nothing(fake, scene):
    scene.nanobanana.bake_size = "1K"
    fake.latency = 3.0
    tex, pump = texturing(), addon_module("pump")
    def ours():
        return [i.name for i in bpy.data.images if i.type != "RENDER_RESULT"], len(bpy.data.materials)
    before = ours()
    job = pump.submit(bpy.context, *tex.TextureFromView.build(bpy.context))
    time.sleep(0.2)
    assert bpy.ops.nanobanana.cancel(job_id=job.id) == {"FINISHED"}
    assert ours() == before
    assert bpy.data.objects["Cube"].active_material is None


def test_texture_all_around_sends_one_request_per_view_and_covers_every_side(fake, scene):
    scene.nanobanana.bake_size = "1K"
    scene.nanobanana.texture_views = 4
    cube = bpy.data.objects["Cube"]
    assert bpy.ops.nanobanana.texture_object() == {"FINISHED"}
    reqs = fake.generate_requests
    assert len(reqs) == 4
    assert all(r.body["generationConfig"]["imageConfig"]["aspectRatio"] == "1:1" for r in reqs)
    refs = [[p for p in user_parts(r) if "Reference image" in (p.get("text") or "")] for r in reqs]
    assert refs[0] == [] and all(len(r) == 1 for r in refs[1:])          # later views see the first
    target = addon_module("runtime").STATE.last_target
    assert [v.name for v in target.views] == ["front", "right", "back", "left"]
    assert check_sides(cube, target, reqs) == 4 * 9
    assert texturing().LAST.coverage["Cube"] > 0.8
    assert set(texturing().LAST.views) == {"front", "right", "back", "left"}


def test_bad_input_is_refused_with_a_clear_message(fake, scene):
    cube = bpy.data.objects["Cube"]
    cube.select_set(False)
    expect_error(bpy.ops.nanobanana.texture_from_view, "Select the mesh objects to texture first.")
    scene.camera.select_set(True)
    expect_error(bpy.ops.nanobanana.texture_object, "'Cam' is not a mesh")
    scene.camera.select_set(False)
    me = bpy.data.meshes.new("Dots")
    me.from_pydata([(0, 0, 0), (1, 0, 0)], [], [])
    dots = bpy.data.objects.new("Dots", me)
    scene.collection.objects.link(dots)
    dots.select_set(True)
    expect_error(bpy.ops.nanobanana.texture_from_view, "'Dots' has no faces")
    dots.select_set(False)
    cube.select_set(True)
    scene.camera = None
    expect_error(bpy.ops.nanobanana.texture_from_view, "no active camera")
    assert fake.generate_requests == []
    assert cube.active_material is None and [u.name for u in cube.data.uv_layers] == ["UVMap"]


@pytest.mark.parametrize("kind", ["PERSP", "ORTHO"])
def test_a_viewport_becomes_a_camera_that_sees_the_same(scene, kind):
    """The UI path (a viewport not in camera view) renders through a temporary camera made
    from the viewport's matrices; here the "viewport" is the scene camera's own view."""
    tex = texturing()
    cam = scene.camera
    cam.data.type = kind
    cam.data.ortho_scale = 6.0
    bpy.context.view_layer.update()
    depsgraph = bpy.context.evaluated_depsgraph_get()
    w, h = 1024, 576
    window = cam.calc_matrix_camera(depsgraph, x=w, y=h)
    made = tex.camera_from_viewport(bpy.context, cam.matrix_world.inverted(), window, kind == "PERSP",
                                    w, h, (0.1, 100.0))
    try:
        bpy.context.view_layer.update()
        a = tex.view_of(cam, depsgraph, w, h, "a")
        b = tex.view_of(made, bpy.context.evaluated_depsgraph_get(), w, h, "b")
        for p in (Vector((0, 0, 0)), Vector((1, -1, 1)), Vector((-1, 1, -1))):
            ndc = []
            for v in (a, b):
                clip = Matrix(v.projection_matrix) @ Matrix(v.view_matrix) @ p.to_4d()
                ndc.append(Vector((clip.x / clip.w, clip.y / clip.w)))
            assert (ndc[0] - ndc[1]).length < 1e-4, (p, ndc)
    finally:
        tex._remove_camera(made)


def test_refine_re_projects_from_the_same_view(fake, scene):
    scene.nanobanana.bake_size = "1K"
    cube = bpy.data.objects["Cube"]
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    first, _uv = baked(cube)
    scene.nanobanana.prompt = "more rust"
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    reqs = fake.generate_requests
    assert len(reqs) == 2 and len(reqs[1].body["contents"]) == 3        # the texture turn, answer, refine
    again, _uv = baked(cube)
    assert again != first and cube.active_material.node_tree.nodes["NB Texture"]["nanobanana_original"] == first.name
    seen, unseen = check_projection(scene, scene.camera, cube, reqs[1].seed, reqs[1].image_size)
    assert seen >= 18 and unseen >= 20


def test_modifiers_are_applied_to_what_is_projected(fake, scene):
    """A bevel changes the surface: the evaluated mesh is what gets baked (UVs follow)."""
    scene.nanobanana.bake_size = "1K"
    cube = bpy.data.objects["Cube"]
    cube.scale = (1.0, 1.0, -1.0)                       # mirrored: winding flips
    bevel = cube.modifiers.new("Bevel", "BEVEL")
    bevel.width, bevel.segments = 0.2, 3
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    (req,) = fake.generate_requests
    cov = texturing().LAST.coverage["Cube"]
    assert 0.35 < cov < 0.65                            # about half of it faces the camera
    seen, unseen = check_projection(scene, scene.camera, cube, req.seed, req.image_size,
                                    lambda p, n: None if max(abs(c) for c, m in zip(p, n, strict=True)
                                                             if abs(m) < 0.5) > 0.7 else False)
    assert seen >= 10 and unseen >= 10


def test_the_texture_section_offers_both_workflows_with_cost_and_coverage(fake, scene):
    assert hasattr(bpy.types, "NANOBANANA_PT_texture_view3d")
    assert not hasattr(bpy.types, "NANOBANANA_PT_texture_image")       # 3D View only
    scene.nanobanana.bake_size, scene.nanobanana.texture_views = "1K", 3
    layout = Layout()
    texturing().draw_panel(layout, bpy.context)
    assert {"nanobanana.texture_from_view", "nanobanana.texture_object",
            "nanobanana.revert_texture_bake"} <= set(layout.operators)
    assert {"texture_views", "bake_size"} <= set(layout.props)
    text = " ".join(layout.labels)
    assert "Cost: " in text and "(3 views)" in text
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    layout = Layout()
    texturing().draw_panel(layout, bpy.context)
    assert "Cube: " in " ".join(layout.labels) and "%" in " ".join(layout.labels)


def _new_sidecars(before: set[str]) -> list[dict]:
    return [m for m in history_sidecars() if m["id"] not in before]


def test_every_view_and_the_bake_go_to_history_and_apply_puts_the_bake_back(fake, scene):
    scene.nanobanana.bake_size = "1K"
    scene.nanobanana.texture_views = 4
    cube = bpy.data.objects["Cube"]
    before = {m["id"] for m in history_sidecars()}
    assert bpy.ops.nanobanana.texture_object() == {"FINISHED"}
    new = _new_sidecars(before)
    views = [m for m in new if "texture_bake" not in m]
    (bake,) = [m for m in new if "texture_bake" in m]
    assert len(views) == 4 and all(m["kind"] == "texture" and m["image_file"] for m in views)
    info = bake["texture_bake"]
    assert info["object"] == "Cube" and info["uv_map"] == "UVMap" and info["bake_size"] == "1K"
    assert sorted(info["view_entries"]) == sorted(m["id"] for m in views)
    assert set(info["views"]) == {"front", "right", "back", "left"} and bake["cost_usd"] == 0.0
    img, _uv = baked(cube)
    assert img["nanobanana_entry"] == bake["id"] and (bake["width"], bake["height"]) == (1024, 1024)
    texels = pixels_of(img).copy()
    # Gone from the file and from the object: "Apply" loads it from History and wires it back.
    assert bpy.ops.nanobanana.revert_texture_bake() == {"FINISHED"}
    assert cube.active_material is None
    for m in [m for m in bpy.data.materials if m.name.startswith("NB Texture")]:
        bpy.data.materials.remove(m)
    bpy.data.images.remove(img)
    cube.select_set(False)                     # it goes to the object it was baked for
    assert bpy.ops.nanobanana.history_use(entry_id=bake["id"], mode="MATERIAL") == {"FINISHED"}
    again, uv_name = baked(cube)
    assert uv_name == "UVMap" and again.name == "NB Texture Cube"
    assert np.array_equal(pixels_of(again), texels)
    # Recall brings the prompt back, with the bake size and the number of views.
    scene.nanobanana.prompt, scene.nanobanana.bake_size, scene.nanobanana.texture_views = "other", "2K", 6
    assert bpy.ops.nanobanana.history_recall(entry_id=bake["id"]) == {"FINISHED"}
    s = scene.nanobanana
    assert s.prompt.startswith("a weathered stone wall") and s.bake_size == "1K" and s.texture_views == 4


def test_apply_of_a_bake_whose_object_is_gone_asks_for_a_selection(fake, scene):
    scene.nanobanana.bake_size = "1K"
    cube = bpy.data.objects["Cube"]
    before = {m["id"] for m in history_sidecars()}
    assert bpy.ops.nanobanana.texture_from_view() == {"FINISHED"}
    (bake,) = [m for m in _new_sidecars(before) if "texture_bake" in m]
    cube.name = "Renamed"
    cube.select_set(False)
    expect_error(bpy.ops.nanobanana.history_use, "'Cube', the object this texture was baked for",
                 entry_id=bake["id"], mode="MATERIAL")
    cube.select_set(True)
    assert bpy.ops.nanobanana.history_use(entry_id=bake["id"], mode="MATERIAL") == {"FINISHED"}
    img, uv = baked(cube)
    assert img["nanobanana_entry"] == bake["id"] and uv == "UVMap"


def test_refine_of_an_all_around_result_asks_every_view_again_and_re_bakes(fake, scene):
    scene.nanobanana.bake_size = "1K"
    scene.nanobanana.texture_views = 4
    cube = bpy.data.objects["Cube"]
    assert bpy.ops.nanobanana.texture_object() == {"FINISHED"}
    first, _uv = baked(cube)
    before = {m["id"] for m in history_sidecars()}
    scene.nanobanana.prompt = "more rust"
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    reqs = fake.generate_requests
    assert len(reqs) == 8
    old, new = reqs[:4], reqs[4:]
    for k, (a, b) in enumerate(zip(old, new, strict=True)):
        contents = b.body["contents"]
        assert len(contents) == 3, k                 # view k's capture turn, its answer, the instruction
        assert contents[0] == a.body["contents"][0]  # the same view's capture (and references)
        assert contents[1]["role"] == "model"
        assert "more rust" in user_parts(b)[0]["text"]
        assert b.body["generationConfig"]["imageConfig"]["aspectRatio"] == "1:1"
        refs = [p for p in user_parts(b) if "Reference image" in (p.get("text") or "")]
        assert len(refs) == (0 if k == 0 else 1), k          # the refined first view, for one style
    again, _uv = baked(cube)
    assert again != first
    target = addon_module("runtime").STATE.last_target
    assert check_sides(cube, target, new) == 4 * 9             # the refined answers, re-baked
    new_entries = _new_sidecars(before)
    assert len(new_entries) == 5 and sum("texture_bake" in m for m in new_entries) == 1
    (bake,) = [m for m in new_entries if "texture_bake" in m]
    assert bake["texture_bake"]["refined"] is True and again["nanobanana_entry"] == bake["id"]
    # Refine again: continues from the refined conversations.
    scene.nanobanana.prompt = "less rust"
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    assert len(fake.generate_requests) == 12
    assert all(len(r.body["contents"]) == 5 for r in fake.generate_requests[8:])


# ---------------------------------------------------------------- the UI path: one view per tick
def capture_steps():
    return addon_module("texture_capture_steps")


def test_all_around_in_the_ui_captures_one_view_per_tick_then_sends_the_same_job(fake, scene):
    """What the modal operator does on each timer event: the press takes the views, each
    tick renders one, the job goes out after the last tick, and the bake is the one the
    synchronous path gives (same views, every side covered)."""
    scene.nanobanana.bake_size = "1K"
    scene.nanobanana.texture_views = 4
    cube = bpy.data.objects["Cube"]
    pump, runtime = addon_module("pump"), addon_module("runtime")
    _req, sync_target = texturing().TextureObject.build(bpy.context)
    objects_before = {o.name for o in bpy.data.objects}
    steps = capture_steps().CaptureSteps(bpy.context, 4)
    texts = []
    for _ in range(3):
        texts.append(steps.progress_text())
        assert steps.tick(bpy.context) is None
        assert {o.name for o in bpy.data.objects} == objects_before        # no camera between ticks
        assert fake.generate_requests == []                                  # nothing sent yet
    texts.append(steps.progress_text())
    job = steps.tick(bpy.context)
    assert job is not None
    assert texts == [f"Capturing view {k} of 4" for k in (1, 2, 3, 4)]
    level, text = pump.wait_and_apply(job)
    assert level == "INFO", text
    reqs = fake.generate_requests
    assert len(reqs) == 4
    target = runtime.STATE.last_target
    assert [v.name for v in target.views] == ["front", "right", "back", "left"]
    assert target.views == sync_target.views            # the same cameras as the synchronous path
    inputs = [[p for p in user_parts(r) if "inlineData" in p or "inline_data" in p] for r in reqs]
    assert all(len(i) >= 1 for i in inputs)              # every view's clay render went out
    assert check_sides(cube, target, reqs) == 4 * 9
    assert texturing().LAST.coverage["Cube"] > 0.8
    assert {o.name for o in bpy.data.objects} == objects_before


def test_cancel_during_the_capture_sends_nothing_and_leaves_nothing(fake, scene):
    scene.nanobanana.texture_views = 4
    mod, runtime = capture_steps(), addon_module("runtime")
    objects_before = {o.name for o in bpy.data.objects}
    cameras_before = {c.name for c in bpy.data.cameras}
    jobs_before = len(runtime.STATE.jobs.running())
    steps = mod.CaptureSteps(bpy.context, 4)
    assert steps.tick(bpy.context) is None
    mod.ACTIVE[:] = [steps]                      # as the modal operator holds it
    try:
        assert bpy.ops.nanobanana.cancel_texture_capture() == {"FINISHED"}   # the header's X
        assert steps.cancelled
    finally:
        mod.ACTIVE.clear()
    steps.cancel()                               # what the modal does on its next event
    assert steps.tick(bpy.context) is None and steps.tick(bpy.context) is None
    time.sleep(0.3)
    assert fake.generate_requests == []
    assert len(runtime.STATE.jobs.running()) == jobs_before
    assert {o.name for o in bpy.data.objects} == objects_before
    assert {c.name for c in bpy.data.cameras} == cameras_before
    assert not bpy.ops.nanobanana.cancel_texture_capture.poll()


@pytest.mark.parametrize("change", ["delete", "move"])
def test_an_object_deleted_or_changed_between_ticks_stops_the_capture_with_a_message(fake, scene, change):
    scene.nanobanana.texture_views = 4
    steps = capture_steps().CaptureSteps(bpy.context, 4)
    assert steps.tick(bpy.context) is None
    cube = bpy.data.objects["Cube"]
    if change == "delete":
        bpy.data.objects.remove(cube)
    else:
        cube.location.x += 1.0
    errors = sys.modules[f"{MODULE}.core.errors"]
    with pytest.raises(errors.InvalidInput) as info:
        steps.tick(bpy.context)
    assert "'Cube'" in str(info.value) and ("deleted" if change == "delete" else "changed") in str(info.value)
    assert "Nothing was sent" in str(info.value)
    assert fake.generate_requests == []


class _Event:
    def __init__(self, type_: str, value: str = "NOTHING"):
        self.type, self.value = type_, value


def _stand_in_operator():
    """The Texture All Around operator's modal half, without a window to invoke from."""
    class Op(capture_steps().SlicedCapture):
        def __init__(self):
            self.reports = []

        def report(self, level, text):
            self.reports.append((set(level), text))
    return Op()


def test_the_modal_sends_after_one_timer_event_per_view_and_esc_sends_nothing(fake, scene):
    scene.nanobanana.bake_size = "1K"
    scene.nanobanana.texture_views = 3
    mod, pump, runtime = capture_steps(), addon_module("pump"), addon_module("runtime")
    objects_before = {o.name for o in bpy.data.objects}
    # Esc after the first view: nothing is sent, the status says so.
    op = _stand_in_operator()
    op._steps = mod.CaptureSteps(bpy.context, 3)
    assert op.modal(bpy.context, _Event("TIMER")) == {"RUNNING_MODAL"}
    assert "Capturing view 2 of 3" in runtime.STATE.status.text
    assert op.modal(bpy.context, _Event("MOUSEMOVE")) == {"PASS_THROUGH"}     # the artist keeps working
    assert op.modal(bpy.context, _Event("ESC", "PRESS")) == {"CANCELLED"}
    assert "nothing was sent" in runtime.STATE.status.text
    assert op._steps.done == 0 and {o.name for o in bpy.data.objects} == objects_before
    time.sleep(0.3)
    assert fake.generate_requests == []
    # Three timer events: three views, then the job.
    op = _stand_in_operator()
    op._steps = mod.CaptureSteps(bpy.context, 3)
    results = [op.modal(bpy.context, _Event("TIMER")) for _ in range(3)]
    assert results == [{"RUNNING_MODAL"}, {"RUNNING_MODAL"}, {"FINISHED"}]
    assert op.reports and "INFO" in op.reports[-1][0]
    job = runtime.STATE.jobs.running()[-1]
    level, text = pump.wait_and_apply(job)
    assert level == "INFO", text
    assert len(fake.generate_requests) == 3
    assert [v.name for v in runtime.STATE.last_target.views] == ["front", "120°", "240°"]
    assert {o.name for o in bpy.data.objects} == objects_before


# ---------------------------------------------------------------- loaded on first use (bench P3)
def test_the_3d_view_header_shows_a_running_capture_with_its_cancel_and_nothing_otherwise(fake, scene):
    hook = addon_module("classes.texturing").draw_capture_header
    assert hook in bpy.types.VIEW3D_HT_header._dyn_ui_initialize()
    idle = type("Header", (), {"layout": Layout()})()
    hook(idle, bpy.context)
    assert idle.layout.labels == [] and idle.layout.operators == []
    scene.nanobanana.texture_views = 4
    mod = capture_steps()
    steps = mod.CaptureSteps(bpy.context, 4)
    mod.ACTIVE[:] = [steps]                      # as the modal operator holds it
    try:
        shown = []
        for _ in range(2):
            header = type("Header", (), {"layout": Layout()})()
            hook(header, bpy.context)
            shown.append((header.layout.labels, header.layout.operators))
            steps.tick(bpy.context)
    finally:
        mod.ACTIVE.clear()
    assert shown == [(["Capturing view 1 of 4"], ["nanobanana.cancel_texture_capture"]),
                     (["Capturing view 2 of 4"], ["nanobanana.cancel_texture_capture"])]
    after = type("Header", (), {"layout": Layout()})()
    hook(after, bpy.context)
    assert after.layout.labels == []
