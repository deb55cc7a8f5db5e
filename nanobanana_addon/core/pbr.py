"""A PBR map set derived from an albedo array: height, tangent-space normal, roughness and
(optionally) a cheap cavity ambient occlusion, plus PNG encoding for packing into Blender.

Conventions (checked against Blender's Normal Map node, tangent space):
- Arrays are H x W (x C), uint8 0..255 or float 0..1, in the row order named by `origin`:
  'top' = first row is the top of the picture (Pillow, PNG, np.asarray(Image)), 'bottom' =
  first row is the bottom (Blender's Image.pixels). Every map comes back in the same order.
- Normal maps are OpenGL style, as Blender expects: +X to the right (U), +Y up (V), +Z out
  of the surface, encoded as (n + 1) / 2. A surface rising towards +X has a normal tilted
  towards -X (red below 0.5); rising towards the top of the picture gives green below 0.5.
  A flat surface is (0.5, 0.5, 1.0). Load them as Non-Color data.
- Height is 0..1 (bright = high), roughness 0..1, ao 0..1 (1 = open), all Non-Color.
- With tileable=True every neighbourhood wraps around the edges (gradients and blurs on a
  torus), so the maps tile whenever the albedo does. Deterministic: no randomness.
NumPy only, no Python loops over pixels; Pillow (lazy) only for PNG encoding.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .blur import blur, from_float, to_float

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)   # Rec. 709 weights on the sRGB values
# Height 0..1 spans this fraction of the texture's long side at normal_strength 1.0
# (a 1 m stone texture with about 1 cm of relief): slopes stay resolution independent.
RELIEF = 0.01
AO_DEPTH = 0.6        # darkest cavity value is 1 - AO_DEPTH at ao_strength 1.0


@dataclass(frozen=True)
class PBRMaps:
    height: np.ndarray        # H x W float32 0..1, bright = high
    normal: np.ndarray        # H x W x 3 float32 0..1, OpenGL tangent space, (n + 1) / 2
    roughness: np.ndarray     # H x W float32 0..1
    ao: np.ndarray | None     # H x W float32 0..1 (1 = unoccluded), None when not asked for
    origin: str = "top"       # row order of the arrays above (see module docstring)

    def png(self, name: str, *, bits: int = 8, compress_level: int = 6) -> bytes:
        """One map ('height', 'normal', 'roughness', 'ao') as PNG bytes, top row first."""
        arr = getattr(self, name)
        if arr is None:
            raise ValueError(f"no {name} map in this set")
        return encode_png(arr, bits=bits, origin=self.origin, compress_level=compress_level)

    def pngs(self, *, height_bits: int = 16, compress_level: int = 6) -> dict[str, bytes]:
        """Every map present, as PNG bytes: height in 16 bits (no terracing when displaced),
        the others in 8."""
        names = ("height", "normal", "roughness", "ao")
        return {n: self.png(n, bits=height_bits if n == "height" else 8, compress_level=compress_level)
                for n in names if getattr(self, n) is not None}


def encode_png(arr: np.ndarray, *, bits: int = 8, origin: str = "top", compress_level: int = 6) -> bytes:
    """PNG bytes of a float 0..1 map (H x W grey, or H x W x 3 / 4), 8 or 16 bits (16: grey only)."""
    from PIL import Image  # lazy: Pillow is a vendored dependency

    _check_origin(origin)
    a = np.flipud(arr) if origin == "bottom" else arr
    if bits == 16:
        if a.ndim != 2:
            raise ValueError("16-bit PNG is for grey maps (height)")
        im = Image.fromarray(np.ascontiguousarray(from_float(to_float(a), np.dtype(np.uint16))))
    elif bits == 8:
        im = Image.fromarray(np.ascontiguousarray(from_float(to_float(a), np.dtype(np.uint8))))
    else:
        raise ValueError("bits must be 8 or 16")
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=compress_level)
    return buf.getvalue()


def _check_origin(origin: str) -> None:
    if origin not in ("top", "bottom"):
        raise ValueError("origin must be 'top' or 'bottom'")


def luminance(albedo: np.ndarray) -> np.ndarray:
    """H x W float32 0..1: Rec. 709 luma of the colour channels (alpha ignored)."""
    a = to_float(np.asarray(albedo))
    if a.ndim == 2:
        return a
    if a.shape[2] >= 3:
        return np.ascontiguousarray(a[:, :, :3] @ LUMA)
    return np.ascontiguousarray(a[:, :, 0])


def _normalise(x: np.ndarray, lo_q: float = 0.01, hi_q: float = 0.99) -> np.ndarray:
    """Stretch x so its lo_q..hi_q quantiles (on a regular sample) span 0..1, clipped;
    a flat input gives 0.5 everywhere."""
    step = max(1, int(np.sqrt(x.size / 250_000)))
    lo, hi = (float(v) for v in np.quantile(x[::step, ::step], (lo_q, hi_q)))
    if hi - lo < 1e-6:
        return np.full(x.shape, 0.5, np.float32)
    out = x - np.float32(lo)
    out *= np.float32(1 / (hi - lo))
    np.clip(out, 0, 1, out=out)
    return out


def height_from_albedo(albedo: np.ndarray, *, tileable: bool = True, flatten: float = 1 / 16,
                       smooth: float = 0.0, invert: bool = False) -> np.ndarray:
    """Height from luminance: bright = high. `flatten` is a high-pass against uneven light:
    luminance minus its blur with sigma = flatten x the short side (0 keeps everything).
    The default 1/16 removes ~90 % of a light change across the whole image and keeps
    relief smaller than about a quarter of it; a linear light gradient is removed entirely,
    even with tileable=False. `smooth` is a blur radius in pixels against noise. Stretched
    to 0..1 (1st..99th percentile)."""
    lum = luminance(albedo)
    h = lum
    if flatten > 0:
        h = lum - blur(lum, flatten * min(lum.shape), wrap=tileable)
    if smooth > 0:
        h = blur(h, smooth, wrap=tileable)
    if invert:
        h = -h
    return _normalise(h)


def _slopes(height: np.ndarray, tileable: bool, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Sobel derivatives of height per pixel: (d/dx to the right, d/dy up the picture)."""
    p = np.pad(height, 1, mode="wrap") if tileable else np.pad(height, 1, mode="reflect", reflect_type="odd")
    d = p[:, 2:] - p[:, :-2]                        # central difference along x, all padded rows
    gx = d[:-2] + d[2:]
    gx += 2 * d[1:-1]
    e = p[2:] - p[:-2]                              # along rows (downwards in memory order)
    gr = e[:, :-2] + e[:, 2:]
    gr += 2 * e[:, 1:-1]
    gx *= np.float32(1 / 8)
    gr *= np.float32(1 / 8)
    if origin == "top":                             # rows run down the picture: up is -row
        gr *= np.float32(-1)
    return gx, gr


def normal_from_height(height: np.ndarray, *, strength: float = 1.0, tileable: bool = True,
                       origin: str = "top") -> np.ndarray:
    """H x W x 3 float32 normal map (OpenGL / Blender tangent space, (n + 1) / 2) from a
    0..1 height map; n is proportional to (-dh/dx, -dh/dy, 1) with h scaled to `RELIEF` x
    strength of the long side."""
    _check_origin(origin)
    gx, gy = _slopes(np.asarray(height, np.float32), tileable, origin)
    return _encode_normal(gx, gy, strength * RELIEF * max(height.shape))


def _encode_normal(gx: np.ndarray, gy: np.ndarray, scale: float,
                   g2: np.ndarray | None = None) -> np.ndarray:
    """(-gx, -gy, 1) x scale normalised and encoded as (n + 1) / 2. gx, gy and g2 (the
    squared slope gx² + gy², when the caller already has it) are overwritten."""
    if g2 is None:
        g2 = gx * gx
        g2 += np.square(gy)
    inv = g2
    inv *= np.float32(scale * scale)
    inv += 1
    np.sqrt(inv, out=inv)
    np.divide(0.5, inv, out=inv)                    # 0.5 / |n|: normalise and encode at once
    out = np.empty((*gx.shape, 3), np.float32)
    for c, comp in enumerate((gx, gy)):
        comp *= inv
        comp *= np.float32(-scale)
        np.add(comp, 0.5, out=out[:, :, c])
    np.add(inv, 0.5, out=out[:, :, 2])
    return out


def pbr_maps(albedo: np.ndarray, *, tileable: bool = True, origin: str = "top",
             normal_strength: float = 1.0, flatten: float = 1 / 16, smooth: float = 0.0,
             invert_height: bool = False, roughness_base: float = 0.65,
             roughness_strength: float = 0.35, ao: bool = True, ao_strength: float = 1.0,
             ao_radius: float = 1 / 64) -> PBRMaps:
    """Height, normal, roughness and cavity AO from an albedo (see the module docstring).

    roughness = roughness_base + roughness_strength x ((0.5 - tone) + (busy - mean busy)):
    darker spots (dirt, crevices) and busier spots (local slope above the image's average)
    read rougher, bright smooth areas glossier; tone is the flattened luminance 0..1, busy
    the blurred slope magnitude stretched to 0..1. AO darkens where the height lies below
    its surroundings (height minus height blurred over ao_radius x the short side).
    """
    _check_origin(origin)
    height = height_from_albedo(albedo, tileable=tileable, flatten=flatten, smooth=smooth,
                                invert=invert_height)
    gx, gy = _slopes(height, tileable, origin)
    tone = 1 - height if invert_height else height
    g2 = gx * gx
    g2 += np.square(gy)
    busy = _normalise(blur(np.sqrt(g2), 3.0, wrap=tileable, coarse=True), 0.0, 0.98)
    rough = busy - np.float32(busy.mean(dtype=np.float64))
    rough += 0.5
    rough -= tone
    rough *= np.float32(roughness_strength)
    rough += np.float32(roughness_base)
    np.clip(rough, 0, 1, out=rough)
    normal = _encode_normal(gx, gy, normal_strength * RELIEF * max(height.shape), g2)
    occlusion = None
    if ao:
        occlusion = cavity_ao(height, strength=ao_strength, radius=ao_radius, tileable=tileable)
    return PBRMaps(height=height, normal=normal, roughness=rough, ao=occlusion, origin=origin)


def cavity_ao(height: np.ndarray, *, strength: float = 1.0, radius: float = 1 / 64,
              tileable: bool = True) -> np.ndarray:
    """Cheap ambient occlusion: 1 where the surface is level with or above its surroundings,
    down to 1 - AO_DEPTH x strength in the deepest 1 % of cavities."""
    h = np.asarray(height, np.float32)
    depth = blur(h, max(1.0, radius * min(h.shape)), wrap=tileable)
    depth -= h                                      # > 0 below the surroundings
    np.maximum(depth, 0, out=depth)
    step = max(1, int(np.sqrt(depth.size / 250_000)))
    top = float(np.quantile(depth[::step, ::step], 0.99))
    if top <= 1e-6:
        return np.ones(h.shape, np.float32)
    depth *= np.float32(1 / top)
    np.minimum(depth, 1, out=depth)
    depth *= np.float32(-AO_DEPTH * strength)
    depth += 1
    np.clip(depth, 0, 1, out=depth)
    return depth
