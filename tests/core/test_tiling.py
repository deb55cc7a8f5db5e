"""Seamless tiling (core/tiling.py): seam measure, half offset + cross repair, offline blend."""
from __future__ import annotations

import numpy as np
import pytest
from texture_samples import stone, with_lighting

from nanobanana_addon.core import tiling


def gradient_noise(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """The classic non-tiling image: a diagonal gradient under noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 0.15 + 0.5 * x / w + 0.3 * y / h
    img = base[:, :, None] + rng.normal(0, 0.04, (h, w, channels))
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def seams_within_tolerance(img: np.ndarray) -> bool:
    s = tiling.tileability(img)
    return (s.wrap_x <= s.interior_x * tiling.TOLERANCE and s.wrap_y <= s.interior_y * tiling.TOLERANCE)


def test_score_tells_a_seamful_image_from_a_seamless_one():
    seamful = tiling.tileability(gradient_noise(200, 280))
    assert not seamful.tiles and seamful.ratio_x > 4 and seamful.ratio_y > 2
    seamless = tiling.tileability(stone(256, 384, seed=3))
    assert seamless.tiles and 0.8 < seamless.ratio < 1.2
    # natural content cut out of a larger surface does not wrap, even without a gradient
    assert not tiling.tileability(stone(256, 384, seed=3, tiles=False)).tiles


def test_a_stripe_pattern_that_wraps_is_not_called_a_seam():
    # Steps between columns vary with the stripe's phase; the wrap step equals the largest
    # interior ones, so it tiles although its ratio to the median is above the tolerance.
    x = np.arange(320)
    img = np.tile(0.5 + 0.3 * np.sin(2 * np.pi * x / 32), (96, 1)).astype(np.float32)
    s = tiling.tileability(img)
    assert s.ratio_x > tiling.TOLERANCE and s.tiles


@pytest.mark.parametrize("shape, dtype", [((300, 420, 3), np.uint8), ((256, 200, 4), np.uint8),
                                          ((180, 240), np.uint8), ((240, 300, 3), np.float32)])
def test_local_blend_makes_any_image_tile_and_keeps_its_centre(shape, dtype):
    img = gradient_noise(shape[0], shape[1], shape[2] if len(shape) == 3 else 1)
    img = img if len(shape) == 3 else img[:, :, 0]
    if dtype == np.float32:
        img = img.astype(np.float32) / 255
    assert not tiling.tileability(img).tiles
    out = tiling.local_cross_blend(img)
    assert out.shape == img.shape and out.dtype == img.dtype
    assert tiling.tileability(out).tiles and seams_within_tolerance(out)
    b = tiling.default_band(*shape[:2])
    assert np.array_equal(out[b:-b, b:-b], img[b:-b, b:-b])      # the middle is the original
    assert not np.array_equal(out[:b], img[:b])


def test_local_blend_keeps_texture_contrast_in_the_blended_border():
    img = with_lighting(stone(256, 256, seed=5, tiles=False))
    out = tiling.local_cross_blend(img)
    b = tiling.default_band(256, 256)
    f = out.astype(np.float32)

    def grain(a):   # mean step between neighbouring pixels: how crisp the texture reads
        return float(np.abs(np.diff(a, axis=1)).mean())
    assert grain(f[:, 1:b]) > 0.85 * grain(f[:, 2 * b:-2 * b])      # no soft, blurred cross
    assert grain(f[1:b]) > 0.85 * grain(f[2 * b:-2 * b])


def test_local_blend_with_a_band_width_and_guards():
    img = gradient_noise(120, 160)
    out = tiling.local_cross_blend(img, band=10)
    assert np.array_equal(out[10:-10, 10:-10], img[10:-10, 10:-10]) and tiling.tileability(out).tiles
    with pytest.raises(ValueError):
        tiling.local_cross_blend(img, band=0)
    with pytest.raises(ValueError):
        tiling.local_cross_blend(np.zeros((3, 3, 3), np.uint8))


def test_half_offset_moves_the_seams_to_a_cross_and_back_exactly():
    img = gradient_noise(101, 77)       # odd sizes
    shifted = tiling.half_offset(img)
    assert tiling.tileability(shifted).tiles              # the edges are now interior pixels
    assert np.array_equal(tiling.undo_half_offset(shifted), img)
    # the old seam is now between the middle rows / columns
    assert np.array_equal(shifted[50], np.roll(img[0], 38, axis=0))
    assert np.array_equal(shifted[:, 38], np.roll(img[:, 0], 50, axis=0))


def test_cross_mask_covers_the_seams_with_a_feathered_band():
    mask = tiling.seam_cross_mask(200, 300, band=24)      # seams between rows 99|100, columns 149|150
    assert mask.shape == (200, 300) and mask.dtype == np.float32
    assert mask.min() == 0 and mask.max() == 1
    assert (mask[88:112, :] == 1).all() and (mask[:, 138:162] == 1).all()   # within band/2
    assert (mask[:76, :126] == 0).all() and (mask[124:, 174:] == 0).all()  # beyond band
    ramp = mask[40, 126:138]                                                # feathered, not a step
    assert 0 < ramp[1] and ramp[-1] < 1 and (np.diff(ramp) > 0).all()


def test_composite_keeps_every_pixel_outside_the_band_bit_for_bit():
    shifted = tiling.half_offset(gradient_noise(200, 300))
    mask = tiling.seam_cross_mask(200, 300, band=16)
    repaired = np.full((200, 300, 3), 17, np.uint8)
    out = tiling.composite_band(shifted, repaired, mask)
    assert out.dtype == np.uint8 and out.shape == shifted.shape
    assert np.array_equal(out[mask == 0], shifted[mask == 0])
    assert (out[mask == 1] == 17).all()
    between = (mask > 0.2) & (mask < 0.8)
    assert ((out[between] > 17) & (out[between] < shifted[between].max())).any()


def test_composite_resamples_a_repair_answered_at_another_size():
    shifted = tiling.half_offset(gradient_noise(240, 320, channels=4))   # RGBA original
    mask = tiling.seam_cross_mask(240, 320, band=20)
    repaired = np.zeros((1024, 1024, 3), np.uint8)                        # the model's square RGB
    repaired[:, :, 1] = 200
    out = tiling.composite_band(shifted, repaired, mask)
    assert out.shape == (240, 320, 4)
    assert np.array_equal(out[mask == 0], shifted[mask == 0])
    core = mask == 1
    assert (out[core][:, 1] == 200).all() and (out[core][:, 0] == 0).all()
    assert np.array_equal(out[..., 3], shifted[..., 3])                    # alpha kept
    with pytest.raises(ValueError):
        tiling.composite_band(shifted, repaired, mask[:10])


def test_repair_round_trip_gives_a_tiling_image():
    """What the add-on will do with a model repair: offset, send the cross, paste it back, undo."""
    img = stone(192, 256, seed=7, tiles=False)
    shifted = tiling.half_offset(img)
    mask = tiling.seam_cross_mask(192, 256, band=24)
    # stand-in for the model: a same-looking image without the seams, at the model's size
    from nanobanana_addon.core.blur import resize
    answer = resize(tiling.half_offset(tiling.local_cross_blend(img, band=20)), 512, 512)
    out = tiling.undo_half_offset(tiling.composite_band(shifted, answer, mask))
    assert tiling.tileability(out).tiles
    keep = tiling.undo_half_offset(mask) == 0
    assert np.array_equal(out[keep], img[keep])
