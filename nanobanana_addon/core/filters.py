"""Separable filters on 2-D float masks (NumPy only, no Python loop over pixels): running
maximum / minimum (dilate, erode) and box blur in O(log width) array operations per axis,
and the feather built from them.

Square neighbourhoods; image edges repeat (a mask painted up to the border stays painted
up to the border). Conventions as in pixels.py; masks are H x W float32, 1 = change.
"""
from __future__ import annotations

import numpy as np

SNAP = 1e-4   # feathered weights this close to 0 or 1 become exactly 0 or 1


def _cut(a: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


def _pad(a: np.ndarray, axis: int, before: int, after: int) -> np.ndarray:
    width = [(0, 0)] * a.ndim
    width[axis] = (before, after)
    return np.pad(a, width, mode="edge")


def _running(a: np.ndarray, k: int, axis: int, op) -> np.ndarray:
    """op (np.maximum, np.minimum or np.add) over the 2k+1 samples centred on each one,
    by doubling spans: log2(2k+1) array operations instead of 2k."""
    if k <= 0:
        return a
    n, width = a.shape[axis], 2 * k + 1
    span, cur = 1, _pad(a, axis, k, k)
    if op is np.add:     # sum = the spans named by the bits of width, side by side
        out, offset = None, 0
        while span <= width:
            if width & span:
                part = _cut(cur, axis, offset, offset + n)
                out = part.copy() if out is None else out + part
                offset += span
            if span * 2 <= width:
                cur = _cut(cur, axis, 0, -span) + _cut(cur, axis, span, None)
            span *= 2
        assert out is not None
        return out
    while span * 2 <= width:   # max/min: two overlapping spans cover the window
        cur = op(_cut(cur, axis, 0, -span), _cut(cur, axis, span, None))
        span *= 2
    rest = width - span
    return op(_cut(cur, axis, 0, n), _cut(cur, axis, rest, rest + n))


def dilate(mask: np.ndarray, px: int) -> np.ndarray:
    """Grow the painted area by px pixels (square neighbourhood)."""
    m = np.asarray(mask)
    return _running(_running(m, int(px), 0, np.maximum), int(px), 1, np.maximum)


def erode(mask: np.ndarray, px: int) -> np.ndarray:
    """Shrink the painted area by px pixels (square neighbourhood)."""
    m = np.asarray(mask)
    return _running(_running(m, int(px), 0, np.minimum), int(px), 1, np.minimum)


def box_blur(mask: np.ndarray, k: int) -> np.ndarray:
    """Mean over the (2k+1)^2 square around each pixel, float32."""
    m = np.asarray(mask, np.float32)
    if k <= 0:
        return m.copy()
    scale = np.float32(1.0 / (2 * k + 1))
    return _running(_running(m, k, 0, np.add) * scale, k, 1, np.add) * scale


def invert(mask: np.ndarray) -> np.ndarray:
    """Change what was kept and keep what was changed (float32)."""
    return np.float32(1.0) - np.asarray(mask, np.float32)


def feather(mask: np.ndarray, radius_px: float, *, inside: bool = True) -> np.ndarray:
    """Soft-edged copy of a 0..1 mask: the weight ramps smoothly (three box blurs, close
    to a Gaussian) from 0 to 1 over about radius_px pixels.

    inside=True (default) keeps the ramp within the painted area: the result is 0 wherever
    the mask is 0, so no unpainted pixel can change; strokes thinner than radius_px fade
    out. inside=False centres the ramp on the painted edge (half of it spills outside).
    Only the painted area's bounding box (plus the ramp) is computed.
    """
    m = np.asarray(mask, np.float32)
    half = int(radius_px) // 2
    out = m.copy()
    if half < 1:
        return out
    rows, cols = np.flatnonzero((m > 0).any(axis=1)), np.flatnonzero((m > 0).any(axis=0))
    if rows.size == 0:
        return out
    grow = half + 1     # the cut-out's border is then unpainted, as beyond it
    t, b = max(0, rows[0] - grow), min(m.shape[0], rows[-1] + 1 + grow)
    lft, rgt = max(0, cols[0] - grow), min(m.shape[1], cols[-1] + 1 + grow)
    part = m[t:b, lft:rgt]
    if inside:
        part = erode(part, half)
    for k in (half // 3, (half + 1) // 3, (half + 2) // 3):
        part = box_blur(part, k)
    part[part < SNAP] = 0.0
    part[part > 1.0 - SNAP] = 1.0
    out[t:b, lft:rgt] = part
    return out
