"""Put the model's answer back on the original's pixel grid: resample it to the original
size (Pillow LANCZOS) and undo a small whole-pixel translation found by phase correlation
on luminance (np.fft), so that a local composite lines up with the untouched pixels.

The shift is estimated on the whole image at about COARSE_SIDE pixels, then made exact
on a full-resolution crop. Regions expected to differ (the mask) are left out of the
estimate. No shift is applied unless the correlation peak stands out clearly: a result
unrelated to the original is not "aligned" to noise. Conventions as in pixels.py; a shift
(dy, dx) means the result's content sits dy rows lower and dx columns further right.
"""
from __future__ import annotations

import math

import numpy as np

from . import filters, pixels

MAX_SHIFT = 0.03      # largest translation looked for, as a fraction of each side
COARSE_SIDE = 512     # long side of the whole-image estimate
REFINE_SIDE = 384     # side of the full-resolution crop that makes the shift exact
MIN_PEAK = 12.0       # correlation peak, in standard deviations of the surface, taken as real
                      # (unrelated images reach about 8)


def aligned_region(result: np.ndarray, size_hw: tuple[int, int], shift: tuple[int, int],
                   top: int, left: int, bottom: int, right: int) -> np.ndarray:
    """Rows top..bottom, columns left..right of the result as it lands on the original's
    H x W grid after undoing `shift`: out[y, x] = result_resampled[y + dy, x + dx], edges
    repeated. Only this rectangle is resampled (one Pillow call with a source box)."""
    H, W = size_hw
    rh, rw = result.shape[:2]
    dy, dx = shift
    st = min(max(top + dy, 0), H - 1)
    sb = max(min(bottom + dy, H), st + 1)
    sl = min(max(left + dx, 0), W - 1)
    sr = max(min(right + dx, W), sl + 1)
    if (rh, rw) == (H, W):
        patch = result[st:sb, sl:sr]
    else:
        box = (sl * rw / W, st * rh / H, sr * rw / W, sb * rh / H)   # exact at the far edges
        patch = pixels.resize(result, (sb - st, sr - sl), box=box)
    ys = np.arange(top, bottom) + dy
    xs = np.arange(left, right) + dx
    if ys[0] < st or ys[-1] >= sb:
        patch = patch.take(np.clip(ys, st, sb - 1) - st, axis=0)
    if xs[0] < sl or xs[-1] >= sr:
        patch = patch.take(np.clip(xs, sl, sr - 1) - sl, axis=1)
    return np.ascontiguousarray(patch)


def _keep_weight(mask: np.ndarray | None, shape: tuple[int, int], grow: int) -> np.ndarray:
    """1 where the images should match, falling smoothly to 0 over the (grown) mask."""
    if mask is None:
        return np.ones(shape, np.float32)
    changed = (np.asarray(mask, np.float32) > 0).astype(np.float32)
    return 1.0 - filters.box_blur(filters.dilate(changed, grow), grow)


def _phase_peak(a: np.ndarray, b: np.ndarray, keep: np.ndarray, lim: tuple[int, int],
                subpixel: bool) -> tuple[tuple[float, float], float]:
    """Shift s with b(y) ~ a(y - s), |s| <= lim, and the peak's height in standard
    deviations of the correlation surface."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32) * keep
    total = float(win.sum())
    if total < 1e-3 * h * w:
        return (0.0, 0.0), 0.0

    def spectrum(x: np.ndarray) -> np.ndarray:
        return np.fft.rfft2((x - float((x * win).sum()) / total) * win)

    cross = spectrum(b) * np.conj(spectrum(a))
    mag = np.abs(cross)
    cross /= mag + mag.max() * 1e-9 + 1e-30
    surface = np.fft.irfft2(cross, s=(h, w))
    ly, lx = min(lim[0], h // 2 - 1), min(lim[1], w // 2 - 1)
    rows = np.r_[0:ly + 1, h - ly:h]
    cols = np.r_[0:lx + 1, w - lx:w]
    near = surface[np.ix_(rows, cols)]
    i, j = np.unravel_index(int(np.argmax(near)), near.shape)
    y, x = int(rows[i]), int(cols[j])
    score = float((near[i, j] - surface.mean()) / (surface.std() + 1e-30))
    fy = fx = 0.0
    if subpixel:
        def vertex(lo: float, mid: float, hi: float) -> float:
            den = lo - 2 * mid + hi
            return 0.0 if den >= 0 else float(np.clip(0.5 * (lo - hi) / den, -0.5, 0.5))
        fy = vertex(surface[(y - 1) % h, x], surface[y, x], surface[(y + 1) % h, x])
        fx = vertex(surface[y, (x - 1) % w], surface[y, x], surface[y, (x + 1) % w])
    dy = y - h if y > h // 2 else y
    dx = x - w if x > w // 2 else x
    return (dy + fy, dx + fx), score


def estimate_shift(original: np.ndarray, result: np.ndarray, *, mask: np.ndarray | None = None,
                   max_shift: float = MAX_SHIFT) -> tuple[int, int]:
    """Whole-pixel translation (dy, dx) of the result's content relative to the original,
    in original pixels; (0, 0) when none is found within max_shift of each side."""
    H, W = original.shape[:2]
    lim_y, lim_x = int(max_shift * H), int(max_shift * W)
    if min(H, W) < 32 or max(lim_y, lim_x) < 1:
        return 0, 0
    scale = max(1.0, max(H, W) / COARSE_SIDE)
    ch, cw = round(H / scale), round(W / scale)
    sy, sx = H / ch, W / cw

    a = pixels.small_luma(original, (ch, cw))
    m_small = None
    if mask is not None:   # painted anywhere in a coarse pixel = left out (uint8: 4x faster)
        m_small = pixels.resize((np.asarray(mask) > 0).view(np.uint8) * np.uint8(255), (ch, cw), method="BOX")
    keep = _keep_weight(m_small, (ch, cw), 2)
    (cy, cx), score = _phase_peak(a, pixels.small_luma(result, (ch, cw)), keep,
                                  (math.ceil(lim_y / sy) + 1, math.ceil(lim_x / sx) + 1), subpixel=True)
    if score < MIN_PEAK:
        return 0, 0
    dy, dx = round(cy * sy), round(cx * sx)
    if scale > 1.0:   # make it exact on the full-resolution crop with most unmasked texture
        side = min(REFINE_SIDE, H, W)
        cut_h, cut_w = max(1, round(side / sy)), max(1, round(side / sx))

        def texture(t: int, lft: int) -> float:
            return float(a[t:t + cut_h, lft:lft + cut_w].std() * keep[t:t + cut_h, lft:lft + cut_w].mean())

        spots = [(round(fy * (ch - cut_h)), round(fx * (cw - cut_w)))
                 for fy in (0.15, 0.5, 0.85) for fx in (0.15, 0.5, 0.85)]
        t, lft = max(spots, key=lambda s: texture(*s))
        y0, x0 = min(round(t * sy), H - side), min(round(lft * sx), W - side)
        crop = (y0, x0, y0 + side, x0 + side)
        m_crop = None if mask is None else np.asarray(mask)[y0:y0 + side, x0:x0 + side]
        lim = (math.ceil(sy) + 2, math.ceil(sx) + 2)
        (ry, rx), score = _phase_peak(pixels.luma(original[y0:y0 + side, x0:x0 + side]),
                                      pixels.luma(aligned_region(result, (H, W), (dy, dx), *crop)),
                                      _keep_weight(m_crop, (side, side), lim[0] + 2), lim, subpixel=False)
        if score >= MIN_PEAK:
            dy, dx = dy + round(ry), dx + round(rx)
    if abs(dy) > lim_y or abs(dx) > lim_x:
        return 0, 0
    return int(dy), int(dx)


def align_result(original: np.ndarray, result: np.ndarray, *, mask: np.ndarray | None = None,
                 max_shift: float = MAX_SHIFT) -> tuple[np.ndarray, tuple[int, int]]:
    """(result resampled to the original's size with its shift undone, in the original's
    dtype and channels; the shift (dy, dx) found). `mask`: where the images are expected
    to differ (left out of the estimate)."""
    shift = estimate_shift(original, result, mask=mask, max_shift=max_shift)
    H, W = original.shape[:2]
    return pixels.match_format(aligned_region(result, (H, W), shift, 0, 0, H, W), original), shift
