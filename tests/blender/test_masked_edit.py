"""Issue 18 in Blender: edit only where the artist paints. The fake answers with an image
that differs everywhere; outside the mask the result is the original bit for bit."""
from __future__ import annotations

import bpy
import numpy as np
import pytest
from fake_gemini import expected_pixel
from helpers import expect_error, status, user_parts

SIZE = 64


def _pixels(img) -> np.ndarray:
    w, h = img.size
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return buf.reshape(h, w, 4)[::-1]            # top-down, like the fake's pattern


def _texture_on_cube(tmp_path):
    """A 64 px texture from a PNG file (a gradient), on the active node of the cube."""
    cube = bpy.data.objects["Cube"]
    mat = bpy.data.materials.new("Masked")
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    cube.data.materials.append(mat)
    img = bpy.data.images.new("stone", SIZE, SIZE)
    ramp = np.linspace(0.1, 0.9, SIZE, dtype=np.float32)
    px = np.ones((SIZE, SIZE, 4), np.float32)
    px[..., 0], px[..., 1], px[..., 2] = ramp[None, :], ramp[:, None], 0.3
    img.pixels.foreach_set(px.ravel())
    img.filepath_raw, img.file_format = str(tmp_path / "stone.png"), "PNG"
    img.save()
    img.reload()
    node = mat.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = img
    mat.node_tree.nodes.active = node
    bpy.context.view_layer.objects.active = cube
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
