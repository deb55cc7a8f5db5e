"""Array helpers for the texture maps (tiling.py, pbr.py; mask filters are in filters.py): float conversion, a fast Gaussian-like blur
that either wraps around the edges (tileable images) or extends them, and Pillow resampling.

Arrays are H x W (grey) or H x W x C, uint8 (0..255) or float (0..1). NumPy only, no Python
loop over pixels; Pillow is imported lazily. Works on NumPy 1.26 and 2.x.
"""
from __future__ import annotations

import math

import numpy as np


def to_float(arr: np.ndarray) -> np.ndarray:
    """float32 in 0..1 (uint8 / uint16 scaled; float arrays are taken as already 0..1)."""
    for kind, top in ((np.uint8, 255), (np.uint16, 65535)):
        if arr.dtype == kind:
            f = arr.astype(np.float32)
            f *= np.float32(1 / top)
            return f
    return np.asarray(arr, dtype=np.float32)


def from_float(f: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Back to `dtype`: uint8 is rounded and clipped, float stays as computed (float32)."""
    for kind, top in ((np.uint8, 255), (np.uint16, 65535)):
        if np.dtype(dtype) == kind:   # round half up (values are clipped to >= 0 first)
            g = f * np.float32(top) + np.float32(0.5)
            np.clip(g, 0, top, out=g)
            return g.astype(kind)
    return f.astype(np.float32, copy=False)


def _box_axis(a: np.ndarray, r: int, axis: int, wrap: bool) -> np.ndarray:
    """Mean over a window of 2r+1 along `axis` (shifted sums, or cumulative sums for wide r)."""
    if r <= 0:
        return a
    n = a.shape[axis]
    pads = [(0, 0)] * a.ndim
    pads[axis] = (r + 1, r)
    if wrap:
        p = np.pad(a, pads, mode="wrap")
    else:
        p = np.pad(a, pads, mode="reflect", reflect_type="odd") if n > 1 else np.pad(a, pads, mode="edge")

    def part(start: int) -> tuple[slice, ...]:
        sl = [slice(None)] * a.ndim
        sl[axis] = slice(start, start + n)
        return tuple(sl)

    if r <= 8:   # a few shifted sums beat a cumulative sum (slow across rows)
        out = p[part(1)].copy()
        for k in range(2, 2 * r + 2):
            out += p[part(k)]
    else:
        c = np.cumsum(p, axis=axis, dtype=np.float32)
        out = c[part(2 * r + 1)] - c[part(0)]
    out *= np.float32(1 / (2 * r + 1))
    return out


def _box3_axis(a: np.ndarray, sigma: float, axis: int, wrap: bool) -> np.ndarray:
    """Three box passes: close to a Gaussian of `sigma` (variance of a box of width w is (w²-1)/12)."""
    r = max(0, int(round((math.sqrt(4 * sigma * sigma + 1) - 1) / 2)))
    for _ in range(3):
        a = _box_axis(a, r, axis, wrap)
    return a


def _factor(n: int, sigma: float, span: float) -> int:
    """Largest divisor f of n with f <= sigma / span (the reduced blur still spans ~span pixels)."""
    top = int(sigma // span)
    for f in range(min(top, n // 4), 1, -1):
        if n % f == 0:
            return f
    return 1


def _upsample_axis(small: np.ndarray, f: int, axis: int, wrap: bool) -> np.ndarray:
    """Linear interpolation back to f x the length along `axis`, block centres aligned with
    the pixels they averaged. Written phase by phase (f strided slices), never a gather."""
    sm = np.moveaxis(small, axis, 0)
    if wrap:
        prev, nxt = np.roll(sm, 1, axis=0), np.roll(sm, -1, axis=0)
    else:
        ends = (2 * sm[:1] - sm[1:2], 2 * sm[-1:] - sm[-2:-1]) if len(sm) > 1 else (sm[:1], sm[-1:])
        prev = np.concatenate([ends[0], sm[:-1]])      # extended linearly past the edges
        nxt = np.concatenate([sm[1:], ends[1]])
    down, up = sm - prev, nxt - sm                     # slopes towards each neighbour
    out = np.empty((sm.shape[0], f, *sm.shape[1:]), np.float32)
    for q in range(f):            # pixel q of each block sits at block + (q + 0.5) / f - 0.5
        t = np.float32((q + 0.5) / f - 0.5)
        np.multiply(down if t < 0 else up, t, out=out[:, q])
        out[:, q] += sm
    out = out.reshape(sm.shape[0] * f, *sm.shape[1:])
    return np.ascontiguousarray(np.moveaxis(out, 0, axis))


def blur(a: np.ndarray, sigma: float, *, wrap: bool, coarse: bool = False) -> np.ndarray:
    """Gaussian-like blur of a float32 H x W (x C) array over the first two axes.

    `wrap=True` treats the image as a torus (a tileable input stays tileable); otherwise
    the image is extended point-symmetrically past its edges (2 x edge - mirror image), so
    a linear ramp such as a lighting gradient blurs to itself right up to the border.
    Large sigmas are computed on a block-averaged copy and interpolated back (linearly), so
    the cost stays near a few passes over the image at any sigma; `coarse=True` allows
    blocks twice as large relative to sigma (cheaper, for maps where that is invisible).
    """
    a = np.asarray(a, dtype=np.float32)
    if sigma <= 0:
        return a.copy()
    span = 1.5 if coarse else 3.0
    fy, fx = _factor(a.shape[0], sigma, span), _factor(a.shape[1], sigma, span)
    h, w = a.shape[:2]
    small = a
    if fy > 1:
        small = small.reshape(h // fy, fy, *small.shape[1:]).mean(axis=1, dtype=np.float32)
    if fx > 1:
        small = small.reshape(small.shape[0], w // fx, fx, *small.shape[2:]).mean(axis=2, dtype=np.float32)
    # what the block average and the interpolation already contribute to the variance
    sy = math.sqrt(max(sigma * sigma - ((fy * fy - 1) / 12 + fy * fy / 6), 0.25)) / fy
    sx = math.sqrt(max(sigma * sigma - ((fx * fx - 1) / 12 + fx * fx / 6), 0.25)) / fx
    small = _box3_axis(small, sy if fy > 1 else sigma, 0, wrap)
    small = _box3_axis(small, sx if fx > 1 else sigma, 1, wrap)
    if fx > 1:
        small = _upsample_axis(small, fx, 1, wrap)
    if fy > 1:
        small = _upsample_axis(small, fy, 0, wrap)
    return small if small is not a else a.copy()


def resize(arr: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample to height x width with Pillow (Lanczos); keeps dtype and channel count."""
    from PIL import Image  # lazy: Pillow is a vendored dependency

    if arr.shape[:2] == (height, width):
        return arr
    if arr.dtype == np.uint8 and (arr.ndim == 2 or arr.shape[2] in (3, 4)):
        return np.asarray(Image.fromarray(arr).resize((width, height), Image.Resampling.LANCZOS))
    f = to_float(arr)
    planes = [f] if f.ndim == 2 else [f[..., c] for c in range(f.shape[2])]
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(p))
                      .resize((width, height), Image.Resampling.LANCZOS)) for p in planes]
    res = out[0] if f.ndim == 2 else np.stack(out, axis=-1)
    return from_float(res, arr.dtype) if arr.dtype in (np.uint8, np.uint16) else res.astype(np.float32)
