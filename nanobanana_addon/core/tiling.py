"""Seamless tiling on plain arrays: measure how well an image wraps, offset it by half so
its seams meet in a cross, mask that cross for a model repair and paste only the repaired
band back, or make it tile offline by blending with half-shifted copies of itself.

Arrays are H x W or H x W x C (RGB, RGBA, ...), uint8 (0..255) or float (0..1), rows in
either order (nothing here depends on which way is up). NumPy only; Pillow (lazy) only to
resample a repaired image. Every function returns a new array and keeps the input dtype.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blur import blur, from_float, resize, to_float

# A wrap seam counts as tiling when it is no stronger than TOLERANCE x the median step
# between neighbouring rows/columns inside the image (a visible seam in a noisy texture is
# typically 2-10x, a clean wrap 0.8-1.2x), or no stronger than the QUANTILE step inside:
# strongly structured textures (stripes, mortar lines) have many large interior steps, and
# a seam that falls on such a line is no seam.
TOLERANCE = 1.5
QUANTILE = 0.95
_EPS = 1e-4   # in 0..1 units: a perfectly flat image has ratio 1, not 0/0

# What to ask the model when the cross of a half-offset image is sent for repair
# (with seam_cross_mask as the mask: white = change).
REPAIR_PROMPT = ("Repair the seams in the white cross of the mask: continue the surrounding "
                 "texture across it so no straight line, edge or change of tone is visible. "
                 "Keep the same material, scale, colours and lighting; change nothing else.")


@dataclass(frozen=True)
class TileScore:
    """Wrap-edge difference against the interior, all in 0..1 units (mean absolute
    difference over the line and its channels). ratio_* = wrap / interior median."""

    wrap_x: float        # last column vs first column (the seam seen when tiling sideways)
    wrap_y: float        # last row vs first row
    interior_x: float    # median step between neighbouring interior columns
    interior_y: float
    limit_x: float       # largest wrap step that still tiles: max(tolerance x median, quantile)
    limit_y: float
    tolerance: float

    @property
    def ratio_x(self) -> float:
        return (self.wrap_x + _EPS) / (self.interior_x + _EPS)

    @property
    def ratio_y(self) -> float:
        return (self.wrap_y + _EPS) / (self.interior_y + _EPS)

    @property
    def ratio(self) -> float:
        """The worse axis: ~1.0 when the seams look like any interior step."""
        return max(self.ratio_x, self.ratio_y)

    @property
    def tiles(self) -> bool:
        return self.wrap_x <= self.limit_x + _EPS and self.wrap_y <= self.limit_y + _EPS


def _planes(arr: np.ndarray) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[0] < 4 or a.shape[1] < 4:
        raise ValueError(f"expected an H x W (x C) image of at least 4 x 4 pixels, got {np.shape(arr)}")
    return a


def _mean_abs(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """Mean |x - y| per index along `axis` (0: per row, 1: per column), over the rest."""
    d = np.abs(to_float(x) - to_float(y))
    if axis == 0:
        return d.reshape(d.shape[0], -1).mean(axis=1)
    return d.reshape(d.shape[0], -1).mean(axis=0).reshape(d.shape[1], -1).mean(axis=1)


def tileability(arr: np.ndarray, tolerance: float = TOLERANCE) -> TileScore:
    """How the wrap seams compare with neighbouring rows/columns inside the image (all
    channels). The interior median is taken over every column pair on every k-th row and
    every k-th row pair (k keeps about 512 lines): a robust estimate at a fraction of the cost."""
    a = _planes(arr)
    h, w = a.shape[:2]
    k = max(1, min(h, w) // 512)
    col_steps = _mean_abs(a[::k, 1:], a[::k, :-1], axis=1)
    row_steps = _mean_abs(a[1::k], a[:h - 1:k], axis=0)
    wrap_x = float(_mean_abs(a[:, -1:], a[:, :1], axis=1)[0])
    wrap_y = float(_mean_abs(a[-1:], a[:1], axis=0)[0])
    in_x, in_y = float(np.median(col_steps)), float(np.median(row_steps))
    lim_x = max(tolerance * in_x, float(np.quantile(col_steps, QUANTILE)))
    lim_y = max(tolerance * in_y, float(np.quantile(row_steps, QUANTILE)))
    return TileScore(wrap_x, wrap_y, in_x, in_y, lim_x, lim_y, tolerance)


def half_offset(arr: np.ndarray) -> np.ndarray:
    """Roll by half the height and half the width: the wrap seams now cross in the middle."""
    h, w = arr.shape[:2]
    return np.roll(arr, (h // 2, w // 2), axis=(0, 1))


def undo_half_offset(arr: np.ndarray) -> np.ndarray:
    """Exact inverse of half_offset (also for odd sizes)."""
    h, w = arr.shape[:2]
    return np.roll(arr, (-(h // 2), -(w // 2)), axis=(0, 1))


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _ramp(n: int, seam: float, band: float) -> np.ndarray:
    """1 within band/2 of a seam line at `seam` (pixel-edge coordinate), easing to 0 at band."""
    d = np.abs(np.arange(n, dtype=np.float32) + 0.5 - seam)
    d = np.minimum(d, n - d)    # distance on the torus
    return _smoothstep((band - d) / (band / 2))


def seam_cross_mask(h: int, w: int, band: int) -> np.ndarray:
    """Float32 H x W mask of the seams after half_offset, for a model repair (1 = change):
    a cross reaching `band` pixels either side of them, 1 within band/2, feathered to 0 at
    band. Encode it with pbr.encode_png when the model needs an image."""
    if band < 1:
        raise ValueError("band must be at least 1 pixel")
    my = _ramp(h, h // 2, band)[:, None]
    mx = _ramp(w, w // 2, band)[None, :]
    return np.maximum(my, mx)


def _match_channels(rep: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Float `rep` with the channel layout of `ref`: grey <-> RGB, alpha dropped or taken
    from `ref` (the model usually answers RGB for an RGBA input)."""
    rep = rep[:, :, None] if rep.ndim == 2 else rep
    rc, oc = rep.shape[2], (1 if ref.ndim == 2 else ref.shape[2])
    if rc != oc:
        if oc not in (1, 3, 4) or rc not in (1, 3, 4):
            raise ValueError(f"cannot match {rc} channels to {oc}")
        colour = rep[:, :, :3] if rc >= 3 else np.repeat(rep, 3, axis=2)
        if oc == 1:    # Rec. 709 luma
            rep = (colour @ np.array([0.2126, 0.7152, 0.0722], np.float32))[:, :, None]
        elif oc == 3:
            rep = colour
        else:
            rep = np.concatenate([colour, to_float(ref[:, :, 3:4])], axis=2)
    return rep[:, :, 0] if ref.ndim == 2 else rep


def composite_band(original_shifted: np.ndarray, repaired: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Put the repaired cross back into the half-offset image: blend by `mask`, keeping
    every pixel where mask == 0 bit for bit. A repaired image of another size is first
    resampled to the original's (the model may answer at its own resolution)."""
    orig = np.asarray(original_shifted)
    h, w = orig.shape[:2]
    if mask.shape != (h, w):
        raise ValueError(f"mask is {mask.shape}, image is {(h, w)}")
    rep = _match_channels(to_float(resize(np.asarray(repaired), h, w)), orig)
    m = np.clip(to_float(np.asarray(mask)), 0, 1)     # float 0..1, or a uint8 mask image
    if orig.ndim == 3:
        m = m[:, :, None]
    o = to_float(orig)
    blended = from_float(o + (rep - o) * m, orig.dtype)
    return np.where(m == 0, orig, blended)


def _seam_weights(band: int) -> np.ndarray:
    """Weights across the 2*band pixels that straddle a wrap seam (last `band`, then first
    `band`): 1 next to the seam, easing to 0 at `band` pixels from it."""
    d = np.arange(band, dtype=np.float32) + 0.5            # distance from the seam
    ramp = _smoothstep((band - d) / max(band * 0.75, 1e-6))
    return np.concatenate([ramp[::-1], ramp])


def _blend_axis(low: np.ndarray, detail: np.ndarray, band: int, axis: int) -> None:
    """In place, along `axis` (0 rows, 1 columns): the `band` pixels on each side of the wrap
    seam move towards the image rolled by half a period, whose own seam lies in the untouched
    middle. Low frequencies blend linearly. Detail blends with weights scaled so the mix
    keeps the detail's contrast: two unrelated patches mixed half and half would otherwise
    go flat (weights whose squares sum to 1), while similar patches (a pattern whose period
    divides the half offset) blend linearly. Only slices: the strip [n-band, n) + [0, band)
    reads from the contiguous [n-s-band, n-s+band)."""
    n = low.shape[axis]
    s = n // 2

    def cut(a: np.ndarray, start: int, stop: int) -> np.ndarray:
        return a[start:stop] if axis == 0 else a[:, start:stop]

    def strip(a: np.ndarray) -> np.ndarray:
        return np.concatenate([cut(a, n - band, n), cut(a, 0, band)], axis=axis)

    def put(a: np.ndarray, new: np.ndarray) -> None:
        cut(a, n - band, n)[...] = cut(new, 0, band)
        cut(a, 0, band)[...] = cut(new, band, 2 * band)

    if axis == 0:
        m = _seam_weights(band)[:, None, None]
    else:   # spelled out per channel: broadcasting over a last axis of 3 is slow
        m = np.repeat(_seam_weights(band)[None, :, None], low.shape[2], axis=2)
    la = strip(low)
    new = cut(low, n - s - band, n - s + band) - la
    new *= m
    new += la
    put(low, new)
    da, db = strip(detail), cut(detail, n - s - band, n - s + band)
    sa, sb = (x[::4] if axis else x[:, ::4] for x in (da, db))    # a sample is enough
    sa, sb = np.ascontiguousarray(sa).ravel(), np.ascontiguousarray(sb).ravel()
    rho = float(np.dot(sa, sb)) / (float(np.sqrt(np.dot(sa, sa) * np.dot(sb, sb))) + 1e-12)
    rho = min(max(rho, 0.0), 1.0)    # correlation of the two details
    norm = np.sqrt((1 - m) ** 2 + m ** 2 + 2 * rho * (1 - m) * m)
    da *= (1 - m) / norm
    new = db * (m / norm)
    new += da
    put(detail, new)


def default_band(h: int, w: int) -> int:
    """Width of the blended border: 1/8 of the short side (the middle 3/4 stays untouched)."""
    return max(2, min(h, w) // 8)


def local_cross_blend(arr: np.ndarray, band: int | None = None) -> np.ndarray:
    """Make an image tile without the model: within `band` pixels of each wrap seam, blend
    towards the image rolled by half a period (first across columns, then across rows), so
    the last and first rows/columns become neighbours from the image's own interior. The
    centre (beyond `band` from every edge) is returned bit for bit. Any size and channel
    count; output has the input's shape and dtype."""
    src = np.asarray(arr)
    a = to_float(_planes(src))
    h, w = a.shape[:2]
    band = default_band(h, w) if band is None else int(band)
    if band < 1:
        raise ValueError("band must be at least 1 pixel")
    by, bx = min(band, h // 2 - 1), min(band, w // 2 - 1)
    if by < 1 or bx < 1:
        raise ValueError(f"image too small to blend ({h} x {w})")
    # local mean to keep lighting changes smooth, detail on top of it
    low = blur(a, max(2.0, band / 2), wrap=True)
    detail = a - low if np.shares_memory(a, src) else a
    if detail is a:
        detail -= low
    _blend_axis(low, detail, bx, axis=1)
    _blend_axis(low, detail, by, axis=0)
    lo = min(0.0, float(src.min())) if np.issubdtype(src.dtype, np.floating) else 0.0
    hi = max(1.0, float(src.max())) if np.issubdtype(src.dtype, np.floating) else 1.0
    out = src.copy()
    view = out if src.ndim == 3 else out[:, :, None]
    # only the border bands change; the centre stays the source, bit for bit
    for sl in ((slice(None), slice(0, bx)), (slice(None), slice(w - bx, w)),
               (slice(0, by), slice(bx, w - bx)), (slice(h - by, h), slice(bx, w - bx))):
        view[sl] = from_float(np.clip(low[sl] + detail[sl], lo, hi), src.dtype)
    return out
