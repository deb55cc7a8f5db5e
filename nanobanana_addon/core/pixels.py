"""Pixel arrays for the masked-edit code: dtype and channel conversions, Pillow resampling
of arrays (also of a sub-rectangle), luminance, and PNG bytes <-> arrays.

Conventions used by pixels.py, align.py and masking.py: arrays are top-down (row 0 is the
top row, as Pillow gives them; Blender's `Image.pixels` are bottom-up, flip them first).
An image is H x W or H x W x C with C in 1..4 (L, LA, RGB, RGBA), uint8 0..255 or float
0..1 (uint16 is accepted too). NumPy is imported at module level, so import these modules
lazily (worker side); Pillow is imported inside the functions that use it.
"""
from __future__ import annotations

import io
import math

import numpy as np

from . import errors

LUMA = (0.299, 0.587, 0.114)   # ITU-R 601, as Pillow's convert("L")


def _pil():
    from PIL import Image  # lazy, as in images.py
    return Image


def channels(a: np.ndarray) -> int:
    return 1 if a.ndim == 2 else int(a.shape[2])


def has_alpha(a: np.ndarray) -> bool:
    return channels(a) in (2, 4)


def to_unit(a: np.ndarray) -> np.ndarray:
    """float32 copy in 0..1 (integers scaled by their maximum, NaN -> 0, clipped)."""
    a = np.asarray(a)
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if a.dtype.kind in "ui":
        return a.astype(np.float32) / np.float32(np.iinfo(a.dtype).max)
    return np.clip(np.nan_to_num(a.astype(np.float32), nan=0.0), 0.0, 1.0)


def convert_dtype(a: np.ndarray, dtype) -> np.ndarray:
    """Same picture in another dtype (uint8 <-> float 0..1 <-> uint16)."""
    a, dtype = np.asarray(a), np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if dtype.kind == "f":
        if a.dtype.kind == "f":
            return a.astype(dtype)
        work: np.ndarray = a.astype(np.float64 if dtype == np.float64 else np.float32)
        return (work / work.dtype.type(np.iinfo(a.dtype).max)).astype(dtype)
    top = np.iinfo(dtype).max
    return np.rint(to_unit(a).astype(np.float64) * top).astype(dtype)


def luma(a: np.ndarray) -> np.ndarray:
    """float32 H x W luminance in 0..1."""
    a = np.asarray(a)
    if a.ndim == 2 or a.shape[2] < 3:
        return to_unit(a if a.ndim == 2 else a[..., 0])
    rgb = to_unit(a[..., :3])
    return rgb @ np.asarray(LUMA, np.float32)


def small_luma(a: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """luma() at size_hw (area average): uint8 colour goes through Pillow's "L" first."""
    a = np.asarray(a)
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] >= 3:
        Image = _pil()
        im = Image.fromarray(np.ascontiguousarray(a[..., :3])).convert("L")
        if im.size != (size_hw[1], size_hw[0]):
            im = im.resize((size_hw[1], size_hw[0]), Image.Resampling.BOX)
        return np.asarray(im, np.float32) / np.float32(255)
    return luma(a if a.shape[:2] == tuple(size_hw) else resize(a, size_hw, method="BOX"))


def match_format(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`result` (same H x W as `like`) in the dtype and channel layout of `like`. Alpha:
    the result's own if it has one, else `like`'s (model answers are opaque)."""
    r, like = convert_dtype(result, like.dtype), np.asarray(like)
    if r.shape[:2] != like.shape[:2]:
        raise ValueError(f"result is {r.shape[:2]}, expected {like.shape[:2]}")
    if r.ndim == 2:
        r = r[..., None]
    n_like, n_r = channels(like), r.shape[2]
    colour = r[..., :n_r - (n_r in (2, 4))]
    want = n_like - (n_like in (2, 4))
    if want == 1 and colour.shape[2] == 3:
        colour = convert_dtype(luma(colour), like.dtype)[..., None]
    elif want == 3 and colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    if n_like in (2, 4):
        alpha = r[..., -1:] if n_r in (2, 4) else like[..., -1:]
        colour = np.concatenate([colour, alpha], axis=2)
    if like.ndim == 2:
        return np.ascontiguousarray(colour[..., 0])
    return np.ascontiguousarray(colour)


def resize(a: np.ndarray, size_hw: tuple[int, int], *, box: tuple[float, float, float, float] | None = None,
           method: str = "LANCZOS") -> np.ndarray:
    """Resample `a` (or its `box` = (left, top, right, bottom) in source pixels) to
    size_hw with Pillow, keeping dtype and channels. uint8 RGB runs as one Pillow image;
    other channels separately (no premultiplied alpha), non-uint8 data as 32-bit float."""
    Image = _pil()
    a = np.asarray(a)
    h, w = int(size_hw[0]), int(size_hw[1])
    resample = getattr(Image.Resampling, method)
    if box is not None:   # hand Pillow only the box and the filter's reach around it
        left, top, right, bottom = box
        reach = math.ceil(3 * max(1.0, (right - left) / w, (bottom - top) / h)) + 1   # Lanczos: 3 lobes
        y0, x0 = max(0, math.floor(top) - reach), max(0, math.floor(left) - reach)
        y1 = min(a.shape[0], math.ceil(bottom) + reach)
        x1 = min(a.shape[1], math.ceil(right) + reach)
        a, box = a[y0:y1, x0:x1], (left - x0, top - y0, right - x0, bottom - y0)

    def run(plane: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(np.ascontiguousarray(plane)).resize((w, h), resample, box=box))

    if a.ndim == 2:
        planes = [a]
    elif a.dtype == np.uint8 and a.shape[2] >= 3:
        planes = [a[..., :3]] + [a[..., c] for c in range(3, a.shape[2])]
    else:
        planes = [a[..., c] for c in range(a.shape[2])]
    out = []
    for p in planes:
        if p.dtype == np.uint8:
            out.append(run(p))
        else:
            out.append(convert_dtype(run(p.astype(np.float32) if p.dtype.kind == "f" else to_unit(p)),
                                     a.dtype))
    if a.ndim == 2:
        return out[0]
    return np.dstack([o if o.ndim == 3 else o[..., None] for o in out])


def encode_png(a: np.ndarray, *, compress_level: int = 1) -> bytes:
    """8-bit PNG of an array (float data is clipped to 0..1 and rounded)."""
    Image = _pil()
    a = convert_dtype(np.asarray(a), np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(buf, "PNG", compress_level=compress_level)
    return buf.getvalue()


def decode_image(data: bytes) -> np.ndarray:
    """uint8 array from encoded image bytes: H x W for grey images, H x W x 2/3/4 for
    LA/RGB/RGBA (alpha only if the file has an alpha channel)."""
    from . import images  # its _open: Pillow's pixel limit lifted (a 16K texture), ours kept
    try:
        im = images._open(data)
        if im.width * im.height > images.MAX_INPUT_PIXELS:
            raise errors.image_too_large("", im.width, im.height, images.MAX_INPUT_PIXELS)
        images.load_checked(im)
    except errors.InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise errors.InvalidInput(f"An image could not be read ({type(exc).__name__}). "
                                  "Save it as PNG or JPEG and try again.") from None
    if im.mode.startswith("I;16"):
        im = im.point(lambda v: v / 256).convert("L")
    elif im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in im.getbands() else "L" if im.mode in ("1", "I", "F") else "RGB")
    return np.asarray(im).copy()


def linear_to_srgb(rgb: np.ndarray) -> np.ndarray:
    """Scene-linear (Rec.709 primaries) to sRGB-encoded values, 0..1 in and out."""
    rgb = np.clip(rgb, 0.0, 1.0)
    return np.where(rgb <= 0.0031308, rgb * 12.92, 1.055 * np.power(rgb, 1 / 2.4) - 0.055)


def box_reduce(px: np.ndarray, factor: int, band: int = 64) -> np.ndarray:
    """Average factor x factor blocks of an H x W x C array, a band of rows at a time: the
    only new memory is the result (edge rows and columns past a whole block are dropped)."""
    h, w = px.shape[0] // factor, px.shape[1] // factor
    out = np.empty((h, w) + px.shape[2:], dtype=np.float32)
    for top in range(0, h, band):
        rows = px[top * factor:min(h, top + band) * factor, :w * factor]
        blocks = rows.reshape((rows.shape[0] // factor, factor, w, factor) + px.shape[2:])
        out[top:top + blocks.shape[0]] = blocks.mean(axis=(1, 3), dtype=np.float32)
    return out


def blender_png(px: np.ndarray, *, linear: bool, max_side: int) -> bytes:
    """PNG of pixels copied from Blender (H x W x 4 float32, bottom-up), at most
    `max_side` px: linear colour encoded to sRGB, data and byte images as they are.
    A large copy is box-reduced first (in linear light), so no second full-size array."""
    factor = max(px.shape[0], px.shape[1]) // max_side
    full_h, full_w = int(px.shape[0]), int(px.shape[1])
    if factor >= 2:
        px = box_reduce(px, factor)
    top_down = px[::-1]
    rgba = np.empty(top_down.shape, dtype=np.float32)
    rgba[..., 3] = np.clip(top_down[..., 3], 0.0, 1.0)
    rgba[..., :3] = linear_to_srgb(top_down[..., :3]) if linear else np.clip(top_down[..., :3], 0.0, 1.0)
    im = _pil().fromarray((rgba * 255.0 + 0.5).astype(np.uint8), "RGBA")
    h, w = int(rgba.shape[0]), int(rgba.shape[1])
    scale = min(1.0, max_side / max(full_w, full_h))
    target = (max(1, round(full_w * scale)), max(1, round(full_h * scale)))
    if (w, h) != target:
        im = im.resize(target, _pil().Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=1)
    return out.getvalue()
