"""PBR maps from an albedo (core/pbr.py): normal convention, tiling, ranges, PNG output."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from texture_samples import stone, with_lighting

from nanobanana_addon.core import pbr, tiling


def decode(normal: np.ndarray) -> np.ndarray:
    return normal * 2 - 1


def test_slope_rising_to_the_right_tilts_the_normal_left():
    h, w = 64, 96
    ramp = np.tile(np.linspace(0, 1, w, dtype=np.float32), (h, 1))      # height grows with x
    n = decode(pbr.normal_from_height(ramp, tileable=False, strength=5))
    assert (n[..., 0] < -0.05).all()                                     # red below 0.5
    assert np.allclose(n[..., 1], 0, atol=1e-6) and (n[..., 2] > 0).all()
    assert np.allclose(np.linalg.norm(n, axis=2), 1, atol=1e-5)


@pytest.mark.parametrize("origin", ["top", "bottom"])
def test_slope_rising_up_the_picture_tilts_the_normal_down(origin):
    h, w = 80, 60
    rows = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    # 'top': row 0 is the top of the picture, so rising upwards means falling with the row;
    # 'bottom' (Blender's pixel order): rising upwards means growing with the row.
    height = np.tile(1 - rows if origin == "top" else rows, (1, w))
    n = decode(pbr.normal_from_height(height, tileable=False, strength=5, origin=origin))
    assert (n[..., 1] < -0.05).all() and np.allclose(n[..., 0], 0, atol=1e-6)
    # the very same array read in the other row order slopes the other way
    other = "bottom" if origin == "top" else "top"
    assert (decode(pbr.normal_from_height(height, tileable=False, strength=5, origin=other))[..., 1] > 0.05).all()


def test_flat_albedo_gives_neutral_maps():
    m = pbr.pbr_maps(np.full((32, 48, 3), 128, np.uint8))
    assert np.allclose(m.normal, [0.5, 0.5, 1.0]) and np.allclose(m.height, 0.5)
    assert np.allclose(m.ao, 1.0)


def test_stronger_normals_tilt_more():
    albedo = stone(128, 128, seed=2)
    weak, strong = (decode(pbr.pbr_maps(albedo, normal_strength=s).normal)[..., 2].mean() for s in (0.5, 2.0))
    assert strong < weak < 1


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_set_shapes_dtypes_and_ranges(channels):
    albedo = stone(120, 200, seed=1, channels=channels)
    m = pbr.pbr_maps(albedo)
    assert m.height.shape == m.roughness.shape == m.ao.shape == (120, 200)
    assert m.normal.shape == (120, 200, 3)
    for a in (m.height, m.normal, m.roughness, m.ao):
        assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    assert m.height.max() - m.height.min() > 0.9             # stretched to use the range
    assert pbr.pbr_maps(albedo, ao=False).ao is None


def test_maps_tile_when_the_albedo_tiles():
    albedo = stone(192, 256, seed=4)
    assert tiling.tileability(albedo).tiles
    m = pbr.pbr_maps(albedo, tileable=True)
    for name in ("height", "normal", "roughness", "ao"):
        s = tiling.tileability(getattr(m, name))
        assert s.tiles and s.ratio < 1.3, name


def test_bright_is_high_and_invert_flips_it():
    albedo = stone(128, 128, seed=6)
    lum = pbr.luminance(albedo)
    h = pbr.pbr_maps(albedo).height
    assert np.corrcoef(lum.ravel(), h.ravel())[0, 1] > 0.8
    hi = pbr.pbr_maps(albedo, invert_height=True).height
    assert np.corrcoef(lum.ravel(), hi.ravel())[0, 1] < -0.8


def test_flatten_keeps_uneven_lighting_out_of_the_height():
    """The same surface lit evenly and unevenly gives the same relief once flattened."""
    def added_gap(plain, lit, bright, dark, **kw):   # what the lighting adds between two areas
        def gap(albedo):
            h = pbr.pbr_maps(albedo, **kw).height
            return float(h[:, bright].mean() - h[:, dark].mean())
        return gap(lit) - gap(plain)
    surface = stone(256, 256, seed=8)
    # a photograph lit from the right (not tileable: edges extended, not wrapped)
    photo = with_lighting(surface, strength=0.8)
    right, left = slice(-64, None), slice(0, 64)
    assert added_gap(surface, photo, right, left, tileable=False, flatten=0) > 0.2
    assert abs(added_gap(surface, photo, right, left, tileable=False)) < 0.03
    # a tileable texture with a bright streak down its middle (lighting that wraps)
    x = np.arange(256)
    light = 1 + 0.4 * np.cos(2 * np.pi * (x - 128) / 256)
    streak = np.clip(surface * light[None, :, None], 0, 255).astype(np.uint8)
    middle, edges = slice(96, 160), np.r_[0:32, 224:256]
    assert added_gap(surface, streak, middle, edges, flatten=0) > 0.3
    assert abs(added_gap(surface, streak, middle, edges)) < 0.1


def test_dark_crevices_are_rougher_and_occluded():
    albedo = np.full((128, 128, 3), 170, np.uint8)
    albedo[60:68, :] = 40                                 # a dark groove across the texture
    m = pbr.pbr_maps(albedo)
    groove, plain = (slice(60, 68), slice(None)), (slice(10, 40), slice(None))
    assert m.roughness[groove].mean() > m.roughness[plain].mean() + 0.1
    assert m.ao[groove].mean() < 0.8 and m.ao[plain].min() > 0.95
    assert m.height[groove].mean() < m.height[plain].mean()


def test_deterministic():
    albedo = stone(96, 96, seed=9)
    a, b = pbr.pbr_maps(albedo), pbr.pbr_maps(albedo.copy())
    assert all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ("height", "normal", "roughness", "ao"))


def test_pngs_decode_with_the_top_row_first():
    albedo = stone(64, 80, seed=3)
    m = pbr.pbr_maps(albedo)
    pngs = m.pngs()
    assert set(pngs) == {"height", "normal", "roughness", "ao"}
    with Image.open(io.BytesIO(pngs["height"])) as im:
        assert im.size == (80, 64) and im.mode.startswith("I")        # 16-bit grey
        assert np.allclose(np.asarray(im, np.float64) / 65535, m.height, atol=1 / 65535)
    with Image.open(io.BytesIO(pngs["normal"])) as im:
        assert im.mode == "RGB" and np.allclose(np.asarray(im) / 255, m.normal, atol=0.5 / 255 + 1e-6)
    # arrays in Blender's bottom-up order are flipped so the PNG still starts at the top
    up = pbr.pbr_maps(np.flipud(albedo), origin="bottom")
    with Image.open(io.BytesIO(up.png("roughness"))) as im:
        assert np.array_equal(np.asarray(im), np.asarray(Image.open(io.BytesIO(m.png("roughness")))))
    with pytest.raises(ValueError):
        pbr.pbr_maps(albedo, ao=False).png("ao")
    with pytest.raises(ValueError):
        pbr.encode_png(m.normal, bits=16)
