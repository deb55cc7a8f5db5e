"""Issue 18 in Blender: edit only where the artist paints. The fake answers with an image
that differs everywhere; outside the mask the result is the original bit for bit."""
from __future__ import annotations

import bpy
import numpy as np
import pytest
from fake_gemini import expected_pixel
from helpers import expect_error, status, texture_on, user_parts

SIZE = 64


def _pixels(img) -> np.ndarray:
    w, h = img.size
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return buf.reshape(h, w, 4)[::-1]            # top-down, like the fake's pattern


def _texture_on_cube(tmp_path):
    """A 64 px texture from a PNG file (a gradient), on the active node of the cube."""
    img = bpy.data.images.new("stone", SIZE, SIZE)
    ramp = np.linspace(0.1, 0.9, SIZE, dtype=np.float32)
    px = np.ones((SIZE, SIZE, 4), np.float32)
    px[..., 0], px[..., 1], px[..., 2] = ramp[None, :], ramp[:, None], 0.3
    img.pixels.foreach_set(px.ravel())
    img.filepath_raw, img.file_format = str(tmp_path / "stone.png"), "PNG"
    img.save()
    img.reload()
    _mat, node = texture_on(bpy.data.objects["Cube"], img, "Masked")
    return node, img


def _mask(region=(16, 48, 16, 48)):
    """White square (rows/cols top-down) on black; returns the mask and the region."""
    m = bpy.data.images.new("mask", SIZE, SIZE, alpha=False)
    px = np.zeros((SIZE, SIZE, 4), np.float32)
    px[..., 3] = 1
    r0, r1, c0, c1 = region
    px[::-1][r0:r1, c0:c1, :3] = 1.0
    m.pixels.foreach_set(px.ravel())
    return m


@pytest.mark.parametrize("scale", [SIZE / 1024, 2 * SIZE / 1024])   # same size, and twice as big
def test_only_the_masked_area_changes_bit_for_bit_outside(fake, scene, tmp_path, scale):
    node, original = _texture_on_cube(tmp_path)
    before = _pixels(original).copy()
    s = scene.nanobanana
    s.aspect_ratio, s.use_mask, s.mask_image, s.mask_feather = "1:1", True, _mask(), 4
    fake.image_scale = scale
    s.prompt = "add a rust stain"
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    sent = fake.generate_requests[-1]
    texts = [p["text"] for p in user_parts(sent) if "text" in p]
    assert "add a rust stain" in texts[0] and "magenta" in texts[0].lower()     # the region is named
    assert sum(1 for p in user_parts(sent) if "inlineData" in p) == 2          # image + marked copy
    result = node.image
    assert result != original and tuple(result.size) == (SIZE, SIZE)
    after = _pixels(result)
    outside = np.ones((SIZE, SIZE), bool)
    outside[16 - 5:48 + 5, 16 - 5:48 + 5] = False                             # mask + feather band
    assert np.array_equal(after[outside], before[outside])                    # bit for bit
    if scale == SIZE / 1024:                                                   # same size: exact inside
        w = h = SIZE
        inner = [(x, y) for x in range(24, 40, 5) for y in range(24, 40, 5)]
        for x, y in inner:
            got = tuple(int(round(v * 255)) for v in after[y, x, :3])
            assert got == expected_pixel(sent.seed, x, y, w, h), (x, y)
    changed = np.abs(after[20:44, 20:44, :3] - before[20:44, 20:44, :3]).max()
    assert changed > 0.1                                                        # it was edited inside


def test_mask_problems_are_explained_before_anything_is_sent(fake, scene, tmp_path):
    _texture_on_cube(tmp_path)
    s = scene.nanobanana
    s.use_mask, s.mask_image = True, None
    expect_error(bpy.ops.nanobanana.edit_texture, "there is no mask image")
    s.mask_image = _mask(region=(0, 0, 0, 0))                                  # nothing painted
    expect_error(bpy.ops.nanobanana.edit_texture, "mask")
    assert fake.generate_requests == []
    assert status().level == "ERROR"


def test_mask_tools_make_invert_and_fill_a_rectangle(fake, scene, tmp_path):
    _texture_on_cube(tmp_path)
    assert bpy.ops.nanobanana.mask_new() == {"FINISHED"}
    s = scene.nanobanana
    assert s.use_mask and tuple(s.mask_image.size) == (SIZE, SIZE)
    assert s.mask_image.colorspace_settings.name == "Non-Color"
    assert _pixels(s.mask_image)[..., :3].max() == 0.0
    bpy.ops.nanobanana.mask_rectangle(corner_min=(0.5, 0.5), corner_max=(1.0, 1.0))
    m = _pixels(s.mask_image)[..., 0]
    assert m[:SIZE // 2, SIZE // 2:].min() == 1.0 and m[SIZE // 2:, :].max() == 0.0   # top right
    bpy.ops.nanobanana.mask_invert()
    assert _pixels(s.mask_image)[..., 0][SIZE - 1, 0] == 1.0
    bpy.ops.nanobanana.mask_clear()
    assert _pixels(s.mask_image)[..., :3].max() == 0.0


def _outside(region=(16, 48, 16, 48), band=5) -> np.ndarray:
    out = np.ones((SIZE, SIZE), bool)
    r0, r1, c0, c1 = region
    out[max(0, r0 - band):r1 + band, max(0, c0 - band):c1 + band] = False
    return out


def test_a_mask_of_another_size_is_resampled_and_the_status_says_so(fake, scene, tmp_path):
    node, original = _texture_on_cube(tmp_path)
    before = _pixels(original).copy()
    small = bpy.data.images.new("half mask", SIZE // 2, SIZE // 2, alpha=False)
    px = np.zeros((SIZE // 2, SIZE // 2, 4), np.float32)
    px[..., 3] = 1
    px[::-1][8:24, 8:24, :3] = 1.0                       # rows/cols 16..48 once stretched
    small.pixels.foreach_set(px.ravel())
    s = scene.nanobanana
    s.aspect_ratio, s.use_mask, s.mask_image, s.mask_feather = "1:1", True, small, 2
    fake.image_scale = SIZE / 1024
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    assert status().level == "WARNING"
    assert "32×32" in status().text and "64×64" in status().text and "resampled" in status().text
    after = _pixels(node.image)
    assert np.array_equal(after[_outside()], before[_outside()])                  # still exact outside
    assert np.abs(after[24:40, 24:40, :3] - before[24:40, 24:40, :3]).max() > 0.1


def test_a_masked_edit_of_non_color_data_says_what_the_model_sees(fake, scene, tmp_path):
    node, original = _texture_on_cube(tmp_path)
    original.colorspace_settings.name = "Non-Color"
    before = _pixels(original).copy()
    s = scene.nanobanana
    s.aspect_ratio, s.use_mask, s.mask_image, s.mask_feather = "1:1", True, _mask(), 2
    fake.image_scale = SIZE / 1024
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    assert status().level == "WARNING" and "Non-Color data" in status().text
    assert "raw values" in status().text and "PBR Maps" in status().text          # what happens, what to do
    assert node.image.colorspace_settings.name == "Non-Color"
    assert np.array_equal(_pixels(node.image)[_outside()], before[_outside()])


def test_the_edited_image_itself_as_mask_is_refused(fake, scene, tmp_path):
    _node, original = _texture_on_cube(tmp_path)
    s = scene.nanobanana
    s.use_mask, s.mask_image = True, original
    expect_error(bpy.ops.nanobanana.edit_texture, "the image being edited")
    assert fake.generate_requests == []


def _masked_edit_on_cube(fake, scene, tmp_path, prompt="add a rust stain"):
    node, original = _texture_on_cube(tmp_path)
    s = scene.nanobanana
    s.aspect_ratio, s.use_mask, s.mask_image, s.mask_feather = "1:1", True, _mask(), 3
    fake.image_scale = SIZE / 1024
    s.prompt = prompt
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    return node, original


def test_refine_of_a_masked_result_edits_the_same_region_only(fake, scene, tmp_path):
    node, _original = _masked_edit_on_cube(fake, scene, tmp_path)
    first = node.image
    first_px = _pixels(first).copy()
    s = scene.nanobanana
    s.mask_image = None                  # the result's own mask is carried, not the setting's image
    s.prompt = "make the stain darker"
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    sent = fake.generate_requests[-1]
    texts = [p["text"] for p in user_parts(sent) if "text" in p]
    assert "make the stain darker" in texts[0] and "tinted and outlined in" in texts[0]   # the region is named
    assert sum(1 for p in user_parts(sent) if "inlineData" in p) == 2            # last result + guide
    refined = node.image
    assert refined != first and tuple(refined.size) == (SIZE, SIZE)
    after = _pixels(refined)
    assert np.array_equal(after[_outside()], first_px[_outside()])              # bit for bit
    assert np.abs(after[24:40, 24:40, :3] - first_px[24:40, 24:40, :3]).max() > 0.02
    s.use_mask = False                   # Mask off: Refine edits the whole image again
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    assert sum(1 for p in user_parts(fake.generate_requests[-1]) if "inlineData" in p) == 0


def test_history_keeps_the_mask_and_recall_and_continue_bring_it_back(fake, scene, tmp_path):
    from helpers import history_sidecars, runtime
    node, _original = _masked_edit_on_cube(fake, scene, tmp_path, "a rust stain to keep")
    painted = _pixels(scene.nanobanana.mask_image)[..., 0].copy()
    (meta,) = [m for m in history_sidecars() if m.get("prompt") == "a rust stain to keep"]
    assert meta["mask"]["file"] == f"{meta['id']}.mask.png" and meta["mask"]["feather_px"] == 3
    entry = runtime().history().get(meta["id"])
    assert entry.mask_path is not None and entry.mask_path.is_file()
    s = scene.nanobanana
    s.use_mask, s.mask_image, s.mask_feather = False, None, 0
    assert bpy.ops.nanobanana.history_recall(entry_id=entry.id) == {"FINISHED"}
    assert s.use_mask and s.mask_image is not None and s.mask_feather == 3
    assert s.mask_image.colorspace_settings.name == "Non-Color"
    assert np.array_equal(_pixels(s.mask_image)[..., 0] > 0.5, painted > 0.5)   # the same region
    assert bpy.ops.nanobanana.history_recall(entry_id=entry.id) == {"FINISHED"}
    assert len([i for i in bpy.data.images if i.name.startswith(f"{entry.id} mask")]) == 1   # reused
    # Continue Refining from the gallery (e.g. after a restart) carries the mask too.
    runtime().STATE.last_mask = None
    assert bpy.ops.nanobanana.history_continue(entry_id=entry.id) == {"FINISHED"}
    saved = _pixels(node.image).copy()         # the entry's image is what the texture shows
    s.prompt = "a second stain"
    known = set(bpy.data.images)
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    assert sum(1 for p in user_parts(fake.generate_requests[-1]) if "inlineData" in p) == 2
    (result,) = [i for i in bpy.data.images if i not in known]     # Continue lands as an image of its own
    after = _pixels(result)
    assert np.array_equal(after[_outside()], saved[_outside()])


def test_lasso_fills_the_drawn_polygon_and_takes_away_with_ctrl(fake, scene, tmp_path):
    _texture_on_cube(tmp_path)
    assert bpy.ops.nanobanana.mask_new() == {"FINISHED"}
    s = scene.nanobanana
    square = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]
    path = [{"name": "", "loc": p, "time": 0.0} for p in square]
    assert bpy.ops.nanobanana.mask_lasso(path=path) == {"FINISHED"}
    m = _pixels(s.mask_image)[..., 0]
    assert m[16:48, 16:48].min() == 1.0 and m.sum() == 32 * 32                    # exactly the square
    hole = [{"name": "", "loc": p, "time": 0.0} for p in [(0.4, 0.4), (0.6, 0.4), (0.5, 0.6)]]
    assert bpy.ops.nanobanana.mask_lasso(path=hole, subtract=True) == {"FINISHED"}
    m2 = _pixels(s.mask_image)[..., 0]
    assert m2[SIZE - 30, SIZE // 2] == 0.0 and 0 < m2.sum() < m.sum()
    expect_error(bpy.ops.nanobanana.mask_lasso, "at least three points", path=path[:2])
    # (Drawing is a modal operator: without a window's mouse events Blender runs execute
    # instead of invoke, so the mouse side is not tested here; the path is what it fills.)


def test_without_numpy_every_numpy_tool_says_what_to_install(fake, scene, tmp_path, monkeypatch, capfd):
    import sys
    _node, _img = _texture_on_cube(tmp_path)
    assert bpy.ops.nanobanana.mask_new() == {"FINISHED"}
    s = scene.nanobanana
    monkeypatch.setitem(sys.modules, "numpy", None)          # as on a distro Blender without NumPy
    words = "This needs NumPy, which this Blender build does not include"
    for op in (bpy.ops.nanobanana.mask_new, bpy.ops.nanobanana.mask_clear, bpy.ops.nanobanana.mask_invert,
               bpy.ops.nanobanana.mask_rectangle, bpy.ops.nanobanana.mask_lasso,
               bpy.ops.nanobanana.edit_texture, bpy.ops.nanobanana.pbr_maps,
               bpy.ops.nanobanana.texture_from_view):
        expect_error(op, words)
        assert status().level == "ERROR" and "python3-numpy" in status().text
    assert s.use_mask and fake.generate_requests == []
    assert "Traceback" not in capfd.readouterr().err


class _Region:
    """An Image Editor's main region 200 px square at (100, 50) in the window, the image
    filling it (headless Blender has no drawn view to map mouse positions)."""
    type, x, y, width, height = "WINDOW", 100, 50, 200, 200

    class view2d:  # noqa: N801 - as Blender names it
        @staticmethod
        def region_to_view(x, y):
            return x / 200, y / 200


class _Area:
    type = "IMAGE_EDITOR"

    def __init__(self, image):
        from types import SimpleNamespace
        self.regions = [_Region()]
        self.spaces = SimpleNamespace(active=SimpleNamespace(image=image))
        self.headers: list = []

    def header_text_set(self, text):
        self.headers.append(text)

    def tag_redraw(self):
        pass


class _Path(list):
    def add(self):
        from types import SimpleNamespace
        item = SimpleNamespace(loc=(0.0, 0.0))
        self.append(item)
        return item


def _lasso_session(scene, mask):
    """The lasso operator's own invoke / modal / execute, driven with mouse events in
    region pixels (what Blender would send while the artist drags)."""
    import types

    from helpers import addon_module
    cls = addon_module("mask_ops").MaskLasso
    reports: list = []
    op = types.SimpleNamespace(path=_Path(), subtract=False, report=lambda kind, text: reports.append(text))
    for name in ("_add", "_end", "_local", "_inside", "execute", "modal"):
        setattr(op, name, types.MethodType(getattr(cls, name), op))
    area = _Area(mask)
    ctx = types.SimpleNamespace(area=area, screen=None, scene=scene,
                                window_manager=types.SimpleNamespace(modal_handler_add=lambda _op: None))

    def event(kind, value="NOTHING", x=0, y=0, ctrl=False):
        return types.SimpleNamespace(type=kind, value=value, mouse_x=x + _Region.x, mouse_y=y + _Region.y,
                                     ctrl=ctrl)
    assert cls.invoke(op, ctx, event("LEFTMOUSE", "PRESS", 0, 0)) == {"RUNNING_MODAL"}
    return op, ctx, area, event, reports


def test_lasso_drag_fills_the_mask_and_ctrl_or_escape_behave(fake, scene, tmp_path):
    _texture_on_cube(tmp_path)
    assert bpy.ops.nanobanana.mask_new() == {"FINISHED"}
    mask = scene.nanobanana.mask_image
    op, ctx, area, event, _reports = _lasso_session(scene, mask)
    assert "Lasso" in area.headers[-1]
    assert op.modal(ctx, event("MOUSEMOVE", x=10, y=10)) == {"PASS_THROUGH"}      # not drawing yet
    assert op.modal(ctx, event("LEFTMOUSE", "PRESS", 50, 50)) == {"RUNNING_MODAL"}
    for x, y in ((150, 50), (151, 51), (150, 150), (50, 150)):                     # (151, 51): too close
        assert op.modal(ctx, event("MOUSEMOVE", x=x, y=y)) == {"RUNNING_MODAL"}
    assert op.modal(ctx, event("LEFTMOUSE", "RELEASE", 50, 150)) == {"FINISHED"}
    assert [tuple(p.loc) for p in op.path] == [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]
    assert area.headers[-1] is None                                                # hint cleared
    m = _pixels(mask)[..., 0]
    assert m[16:48, 16:48].min() == 1.0 and m.sum() == 32 * 32
    # Ctrl while pressing takes the lasso away.
    op, ctx, area, event, _r = _lasso_session(scene, mask)
    op.modal(ctx, event("LEFTMOUSE", "PRESS", 50, 50, ctrl=True))
    for x, y in ((100, 50), (100, 100), (50, 100)):
        op.modal(ctx, event("MOUSEMOVE", x=x, y=y))
    assert op.modal(ctx, event("LEFTMOUSE", "RELEASE", 50, 100)) == {"FINISHED"} and op.subtract
    m2 = _pixels(mask)[..., 0]
    assert m2[32:48, 16:32].max() == 0.0 and m2[16:32, 16:48].min() == 1.0        # bottom-left quarter gone (rows top-down)
    # Escape, and a click outside the editor, leave the mask as it was.
    for end in (event("ESC", "PRESS"), event("LEFTMOUSE", "PRESS", -20, 30)):
        op, ctx, area, event, _r = _lasso_session(scene, mask)
        op.modal(ctx, event("MOUSEMOVE", x=60, y=60))
        assert op.modal(ctx, end) == {"CANCELLED"} and area.headers[-1] is None
    assert np.array_equal(_pixels(mask)[..., 0], m2)


def test_a_masked_edit_of_a_float_texture_says_it_keeps_8_bit_precision(fake, scene, tmp_path):
    node, _original = _texture_on_cube(tmp_path)
    deep = bpy.data.images.new("stone float", SIZE, SIZE, float_buffer=True)
    deep.pixels.foreach_set(np.full(SIZE * SIZE * 4, 0.4, np.float32))
    node.image = deep
    s = scene.nanobanana
    s.aspect_ratio, s.use_mask, s.mask_image = "1:1", True, _mask()
    fake.image_scale = SIZE / 1024
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    assert status().level == "WARNING" and "8-bit precision" in status().text
    assert "Non-Color" not in status().text


def test_the_mask_section_offers_box_lasso_invert_and_clear_with_real_icons(scene):
    from helpers import addon_module
    from ui_double import Layout
    icons: list[str] = []

    class Recorder(Layout):
        def operator(self, op, text="", icon="NONE", **k):
            icons.append(icon)
            return super().operator(op, text, icon, **k)

        def prop(self, data, prop, **k):
            icons.append(k.get("icon", "NONE"))
            return super().prop(data, prop, **k)
    s = scene.nanobanana
    s.use_mask = False
    off = Recorder()
    addon_module("panels").draw_mask(off, s)
    assert off.operators == []                                   # nothing but the switch when off
    s.use_mask = True
    on = Recorder()
    addon_module("panels").draw_mask(on, s)
    assert on.operators == ["nanobanana.mask_rectangle", "nanobanana.mask_lasso",
                            "nanobanana.mask_invert", "nanobanana.mask_clear"]
    known = set(bpy.types.UILayout.bl_rna.functions["prop"].parameters["icon"].enum_items.keys())
    assert set(icons) <= known
