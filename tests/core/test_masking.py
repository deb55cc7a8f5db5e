"""Masked edits: the artist's mask is checked, the model is shown the region, and its answer
comes back through the mask with every pixel outside it untouched, bit for bit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nanobanana_addon.core import errors, filters, masking, pixels

ROOT = Path(__file__).resolve().parents[2]


def natural(h: int, w: int, seed: int) -> np.ndarray:
    """uint8 RGB with a 1/f spectrum: texture at every scale, like a photo or a texture."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    amp = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(h, w))
    planes = [np.fft.irfft2((rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)) * amp,
                            s=(h, w)) for _ in range(3)]
    x = np.stack(planes, axis=-1) @ np.array([[1, .6, .4], [.3, 1, .5], [.2, .4, 1]]).T
    x = (x - x.mean()) / x.std()
    return np.ascontiguousarray(np.clip(128 + 45 * x, 0, 255).astype(np.uint8))


def changed_everywhere(img: np.ndarray) -> np.ndarray:
    """A model answer that differs from the original at every pixel (still the same picture)."""
    return np.where(img < 128, img + 40, img - 40).astype(img.dtype)


def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Content moved dy rows down and dx columns right, edges repeated."""
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[np.clip(np.arange(h) - dy, 0, h - 1)][:, np.clip(np.arange(w) - dx, 0, w - 1)])


def mean_error(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs(a[where].astype(np.int16) - b[where]).mean())


def rect_mask(h: int, w: int, top: int, left: int, bottom: int, right: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[top:bottom, left:right] = 255
    return m


def regions(info: masking.MaskInfo, feather_px: int):
    """(outside: painted 0, core: feather weight 1, band: weight strictly between)."""
    soft = filters.feather(info.mask, feather_px)
    return info.mask == 0, soft == 1, (soft > 0) & (soft < 1), soft


# ---------------------------------------------------------------- composite
def test_outside_is_the_original_bit_for_bit_inside_is_the_answer_and_the_edge_blends():
    o = natural(240, 320, 1)
    answer = changed_everywhere(o)
    info = masking.check_mask(rect_mask(240, 320, 60, 80, 180, 260), o.shape)
    out, shift = masking.apply_edit(o, answer, info, feather_px=12)
    outside, core, band, soft = regions(info, 12)
    assert shift == (0, 0) and out.dtype == np.uint8
    assert np.array_equal(out[outside], o[outside])
    assert np.array_equal(out[core], answer[core]) and core.sum() > 100 * 100
    want = o.astype(np.float32) + (answer.astype(np.float32) - o) * soft[..., None]
    assert np.abs(out[band] - want[band]).max() <= 0.5 + 1e-3
    middle = band & (soft > 0.3) & (soft < 0.7)
    assert middle.any() and (out[middle] != o[middle]).all() and (out[middle] != answer[middle]).all()


def test_float_rgba_keeps_outside_bits_and_alpha():
    rgb = natural(64, 80, 2).astype(np.float32) / 255
    alpha = np.linspace(0, 1, 64 * 80, dtype=np.float32).reshape(64, 80, 1)
    o = np.concatenate([rgb, alpha], axis=2)
    yy, xx = np.mgrid[0:64, 0:80]
    mask = ((yy - 32) ** 2 + (xx - 40) ** 2 <= 25 ** 2).astype(np.float32)     # a disc
    o[7:12, 15:20, :3] = -0.0                # beside the disc, inside its bounding box: a float
    answer_rgb = 1 - rgb                     # blend would turn -0.0 into 0.0. Opaque answer.
    soft = filters.feather(mask, 8)
    out = masking.composite(o, answer_rgb, soft)
    outside = soft == 0
    assert out.dtype == np.float32
    assert np.array_equal(out.view(np.uint32)[outside], o.view(np.uint32)[outside])
    assert np.array_equal(out[..., 3], o[..., 3])          # alpha kept everywhere
    assert np.array_equal(out[soft == 1][:, :3], answer_rgb[soft == 1])


def test_uint8_answer_into_float_original_lands_in_the_original_format():
    o = natural(40, 40, 3).astype(np.float32) / 255
    answer = np.full((40, 40, 3), 255, np.uint8)
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1
    out = masking.composite(o, answer, mask)
    assert out.dtype == np.float32 and (out[mask == 1] == 1.0).all()
    assert np.array_equal(out[mask == 0], o[mask == 0])
    with pytest.raises(ValueError):
        masking.composite(o, answer, mask[:20])


def test_answer_at_another_size_is_resampled_onto_the_original():
    o = natural(200, 300, 4)
    edited = changed_everywhere(o)
    answer = pixels.resize(edited, (300, 450))               # model answered 1.5x larger
    info = masking.check_mask(rect_mask(200, 300, 40, 60, 160, 240), o.shape)
    out, shift = masking.apply_edit(o, answer, info, feather_px=8)
    outside, core, _band, _soft = regions(info, 8)
    assert shift == (0, 0)
    assert np.array_equal(out[outside], o[outside])
    resampled = pixels.resize(answer, (200, 300))             # the whole answer, brought back to size
    assert mean_error(out, resampled, core) < 0.5             # 8-bit Pillow passes round differently
    assert mean_error(out, edited, core) < 0.3 * mean_error(shifted(edited, 1, 0), edited, core)


@pytest.mark.parametrize("size, scale, move", [((240, 320), 1.0, (4, -6)), ((240, 320), 1.5, (-3, 5)),
                                               ((768, 1024), 1.5, (5, -7)), ((768, 1024), 0.75, (-6, 4))])
def test_shifted_answer_is_put_back_in_place(size, scale, move):
    h, w = size
    o = natural(h, w, 5)
    edited = changed_everywhere(o)
    answer = shifted(edited, *move)
    if scale != 1.0:
        answer = pixels.resize(answer, (round(h * scale), round(w * scale)))
    info = masking.check_mask(rect_mask(h, w, h // 4, w // 4, h // 2, w // 2), o.shape)
    out, shift = masking.apply_edit(o, answer, info, feather_px=6)
    outside, core, _band, _soft = regions(info, 6)
    assert shift == move
    assert np.array_equal(out[outside], o[outside])
    put_back = shifted(pixels.resize(answer, (h, w)), -move[0], -move[1])
    assert np.array_equal(out[core], put_back[core]) if scale == 1.0 else mean_error(out, put_back, core) < 0.5
    best = pixels.resize(pixels.resize(edited, answer.shape[:2]), (h, w))    # no placement error
    assert mean_error(out, edited, core) <= mean_error(best, edited, core) + 0.5
    aligned, found = masking.align_result(o, answer, mask=info.mask)
    assert found == move and aligned.shape == o.shape and aligned.dtype == o.dtype


def test_an_unrelated_answer_is_not_shifted():
    o, other = natural(300, 400, 6), natural(300, 400, 7)
    assert masking.estimate_shift(o, other) == (0, 0)
    flat = np.full((300, 400, 3), 90, np.uint8)
    assert masking.estimate_shift(flat, flat) == (0, 0)


# ---------------------------------------------------------------- mask checks
def test_empty_mask_says_nothing_is_painted():
    with pytest.raises(errors.InvalidInput, match="nothing is painted") as err:
        masking.check_mask(np.zeros((50, 60), np.uint8), (50, 60, 3))
    assert "turn the mask off" in str(err.value)


def test_all_white_mask_suggests_a_normal_edit():
    with pytest.raises(errors.InvalidInput, match="whole image") as err:
        masking.check_mask(np.full((50, 60, 4), 255, np.uint8), (50, 60, 3))
    assert "normal edit" in str(err.value)


def test_mask_of_another_size_is_stretched_with_a_note():
    info = masking.check_mask(rect_mask(100, 100, 0, 0, 50, 50), (200, 400, 3))
    assert info.mask.shape == (200, 400) and info.mask.dtype == np.float32
    assert len(info.warnings) == 1 and "100×100" in info.warnings[0] and "400×200" in info.warnings[0]
    assert info.mask[50, 100] == 1.0 and info.mask[150, 300] == 0.0
    assert info.coverage == pytest.approx(0.25, abs=0.01)
    same = masking.check_mask(rect_mask(200, 400, 0, 0, 100, 200), (200, 400))
    assert same.warnings == () and same.bbox == (0, 0, 100, 200)


def test_faint_residue_and_transparent_paint_count_as_unpainted():
    o = natural(80, 80, 8)
    mask = np.full((80, 80), 3, np.uint8)                     # JPEG noise / brush residue
    mask[20:60, 20:60] = 255
    info = masking.check_mask(mask, o.shape)
    out, _ = masking.apply_edit(o, changed_everywhere(o), info, feather_px=4, align=False)
    assert np.array_equal(out[:20], o[:20])                   # residue changed nothing
    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[..., :3] = 255                                       # white everywhere, but
    rgba[10:30, 10:30, 3] = 255                               # opaque only here
    assert masking.check_mask(rgba, o.shape).bbox == (10, 10, 30, 30)


def test_a_stroke_thinner_than_the_feather_still_edits():
    o = natural(100, 100, 12)
    answer = changed_everywhere(o)
    info = masking.check_mask(rect_mask(100, 100, 20, 48, 80, 51), o.shape)     # 3 px wide
    out, _ = masking.apply_edit(o, answer, info, feather_px=12, align=False)
    painted = info.mask > 0
    assert np.array_equal(out[painted], answer[painted]) and np.array_equal(out[~painted], o[~painted])


# ---------------------------------------------------------------- feather
def test_feather_stays_inside_the_painted_area_and_ramps_smoothly():
    m = np.zeros((100, 120), np.float32)
    m[20:80, 30:110] = 1
    soft = masking.feather(m, 16)
    assert (soft[m == 0] == 0).all() and soft[50, 70] == 1
    ramp = soft[50, 28:50]
    assert (np.diff(ramp) >= 0).all() and 0 < ramp[2] < 0.1 and ramp[18] == 1
    centred = masking.feather(m, 16, inside=False)
    assert centred[50, 25] > 0 and centred[50, 30] == pytest.approx(0.5, abs=0.1)
    edge = np.zeros((50, 50), np.float32)
    edge[:, :20] = 1                                          # painted up to the left border
    assert (masking.feather(edge, 10)[:, 0] == 1).all()
    assert np.array_equal(masking.invert(masking.invert(m)), m)


def test_dilate_and_erode_grow_and_shrink_by_whole_pixels():
    m = np.zeros((30, 30), np.float32)
    m[10:20, 10:20] = 1
    assert masking.dilate(m, 2).sum() == 14 * 14 and masking.erode(m, 2).sum() == 6 * 6


# ---------------------------------------------------------------- guide
def test_tint_guide_marks_exactly_the_painted_region():
    o = natural(120, 160, 9)
    info = masking.check_mask(rect_mask(120, 160, 30, 40, 90, 130), o.shape)
    guide = masking.guide_image(o, info)
    changed = (guide.image != o).any(axis=2)
    region = info.mask >= 0.5
    assert np.array_equal(changed, region)
    assert np.array_equal(pixels.decode_image(guide.mask_png()) == 255, region)
    text = guide.instruction("make it a brick wall.")
    assert guide.colour == "magenta" and "magenta" in text and "make it a brick wall" in text
    assert guide.image_png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_outline_and_fill_guides_stay_inside_the_region():
    o = natural(120, 160, 10)
    info = masking.check_mask(rect_mask(120, 160, 30, 40, 90, 130), o.shape)
    region = info.mask >= 0.5
    outline = masking.guide_image(o, info, "OUTLINE")
    changed = (outline.image != o).any(axis=2)
    assert not changed[~region].any() and changed[30, 40:130].all() and not changed[60, 85]
    fill = masking.guide_image(o, info, "FILL")
    assert (fill.image[region] == (255, 0, 255)).all() and np.array_equal(fill.image[~region], o[~region])
    bw = masking.guide_image(o, info, "MASK")
    assert np.array_equal(bw.image[..., 0] == 255, region)
    with pytest.raises(ValueError):
        masking.guide_image(o, info, "SPARKLES")


def test_marker_colour_avoids_colours_in_the_image():
    o = np.zeros((60, 60, 3), np.uint8)
    o[..., 0], o[..., 2] = 230, 220                           # a magenta-ish picture
    info = masking.check_mask(rect_mask(60, 60, 10, 10, 30, 30), o.shape)
    guide = masking.guide_image(o, info)
    assert guide.colour == "cyan" and "cyan" in guide.instruction("add a window")
    assert (guide.image[10, 10] == (0, 255, 255)).all()


def test_every_instruction_carries_the_prompt_and_the_colour():
    for style, template in masking.INSTRUCTIONS.items():
        text = template.format(prompt="PROMPT", colour="COLOUR")
        assert "PROMPT" in text and ("COLOUR" in text or style == "MASK")


# ---------------------------------------------------------------- bytes
def test_png_round_trip_and_unreadable_bytes():
    rgba = np.dstack([natural(30, 40, 11), np.full((30, 40), 128, np.uint8)])
    assert np.array_equal(pixels.decode_image(pixels.encode_png(rgba)), rgba)
    grey = np.linspace(0, 1, 30 * 40, dtype=np.float32).reshape(30, 40)
    back = pixels.decode_image(pixels.encode_png(grey))
    assert back.shape == (30, 40) and np.abs(back / 255 - grey).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(errors.InvalidInput, match="could not be read"):
        pixels.decode_image(b"not an image")


def test_benchmark_script_runs():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "masking.py"), "--smoke"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "(3, -5)" in out.stdout


# ---------------------------------------------------------------- lasso
def test_lasso_fills_the_polygon_in_blender_image_coordinates():
    # A right triangle in the lower left half of a 40 x 20 image (u, v from the bottom left).
    m = masking.polygon_mask([(0.0, 0.0), (0.5, 0.0), (0.0, 1.0)], 40, 20)
    assert m.shape == (20, 40) and m.dtype == np.uint8 and set(np.unique(m)) <= {0, 255}
    assert m[19, 1] == 255 and m[19, 18] == 255        # bottom row (top-down: last row), left part
    assert m[0, 30] == 0 and m[19, 30] == 0             # right half untouched
    assert m[1, 0] == 255 and m[1, 10] == 0             # near the apex only the left edge
    share = np.count_nonzero(m) / m.size
    assert share == pytest.approx(0.25, abs=0.04)       # half of the left half


def test_lasso_closes_itself_and_follows_a_drawn_outline():
    # A square drawn as a dense outline (like mouse points), not closed by hand.
    side = [(0.25 + 0.5 * t / 20, 0.25) for t in range(21)] + [(0.75, 0.25 + 0.5 * t / 20) for t in range(21)]
    side += [(0.75 - 0.5 * t / 20, 0.75) for t in range(21)] + [(0.25, 0.75 - 0.5 * t / 20) for t in range(20)]
    m = masking.polygon_mask(side, 64, 64) > 0
    assert m[16:48, 16:48].all() and not m[:15].any() and not m[:, 49:].any()
    assert np.count_nonzero(m) == pytest.approx(32 * 32, rel=0.1)


def test_lasso_paints_blender_pixels_and_takes_away():
    px = np.zeros((10, 10, 4), np.float32)                       # Blender rows: bottom-up
    square = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]    # bottom-left quarter
    masking.paint_polygon(px, square)
    assert px[:5, :5, :3].min() == 1.0 and px[5:, :, :3].max() == 0.0 and px[:, 6:, :3].max() == 0.0
    assert px[..., 3].min() == 1.0
    masking.paint_polygon(px, [(0.0, 0.0), (0.2, 0.0), (0.2, 0.2), (0.0, 0.2)], 0.0)
    assert px[0, 0, 0] == 0.0 and px[4, 4, 0] == 1.0


def test_a_lasso_of_two_points_is_refused_with_words():
    with pytest.raises(errors.InvalidInput, match="at least three points"):
        masking.polygon_mask([(0.1, 0.1), (0.5, 0.5)], 8, 8)


def test_lasso_points_that_map_nowhere_are_dropped():
    nan = float("nan")
    m = masking.polygon_mask([(0.0, 0.0), (nan, nan), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], 8, 8)
    assert m.min() == 255
    with pytest.raises(errors.InvalidInput):
        masking.polygon_mask([(nan, 0.1), (0.5, nan), (0.2, 0.2), (0.3, 0.3)], 8, 8)
