"""Masked edits for models without a mask parameter: check the artist's mask, show the model
the region (a guide image + wording kept here as data), then put its answer back through
the mask so that every pixel outside it is the original's, bit for bit.

Owns MaskInfo / check_mask, the guide image and instruction templates, the composite and
apply_edit (align + feather + composite, computed on the mask's bounding box only). The
filters live in filters.py, the alignment in align.py, array conversions and PNG bytes in
pixels.py; the names used with masked edits are re-exported here.

Mask semantics: H x W float32 0..1 at the image size, white (1) = change, black (0) =
keep; top-down rows like every array here (see pixels.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import errors, filters, pixels
from .align import align_result, aligned_region, estimate_shift
from .filters import dilate, erode, feather, invert
from .pixels import decode_image, encode_png

__all__ = ["MaskInfo", "Guide", "check_mask", "polygon_mask", "paint_polygon", "guide_image", "composite", "apply_edit",
           "default_feather_px", "feather", "invert", "dilate", "erode", "align_result",
           "estimate_shift", "encode_png", "decode_image"]

EMPTY_LEVEL = 0.02    # below: unpainted (JPEG noise, brush residue); above 1 - this: fully painted
GUIDE_LEVEL = 0.5     # mask values from here on are "the region" in the guide image
FEATHER_SHARE = 0.005  # default feather: this share of the long side (10 px at 2K)
TINT_ALPHA = 0.5

# Marker colours, in order of preference; the first one (nearly) absent from the image wins.
MARKERS = (("magenta", (255, 0, 255)), ("cyan", (0, 255, 255)), ("green", (0, 255, 0)),
           ("yellow", (255, 255, 0)))
MARKER_NEAR = 90.0     # RGB distance under which an image colour counts as the marker's
MARKER_RARE = 0.002    # share of such pixels a marker may have and still be used

# What the model reads. The request sends the original first and Guide.image second.
INSTRUCTIONS = {
    "TINT": ("Edit the first image. The second image is the same picture with the area to change "
             "tinted and outlined in {colour}. Change only that area: {prompt}. Keep everything "
             "outside it identical (same framing, colours and details) and do not draw the {colour} "
             "tint or outline."),
    "OUTLINE": ("Edit the first image. The second image is the same picture with the area to change "
                "outlined in {colour}. Change only the inside of that outline: {prompt}. Keep "
                "everything else identical (same framing, colours and details) and do not draw the "
                "{colour} outline."),
    "FILL": ("Edit the first image. In the second image the area to change is filled with solid "
             "{colour}. Replace that area: {prompt}. Blend it naturally with its surroundings, keep "
             "everything else identical (same framing, colours and details) and leave no {colour}."),
    "MASK": ("Edit the first image. The second image is a black-and-white mask of it: white marks "
             "the area to change. Change only that area: {prompt}. Keep everything in the black "
             "area identical (same framing, colours and details)."),
}


@dataclass(frozen=True)
class MaskInfo:
    mask: np.ndarray                  # float32 H x W, 0..1, at the image size
    coverage: float                   # share of the image at or above GUIDE_LEVEL
    bbox: tuple[int, int, int, int]   # top, left, bottom, right (exclusive) of mask > 0
    warnings: tuple[str, ...] = ()


def _bbox(nonzero: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.flatnonzero(nonzero.any(axis=1)), np.flatnonzero(nonzero.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _levels(m: np.ndarray) -> np.ndarray:
    """Faint values become 0, nearly full ones 1 (in place)."""
    m[m < EMPTY_LEVEL] = 0.0
    m[m > 1.0 - EMPTY_LEVEL] = 1.0
    return m


_UINT8_LEVELS = _levels(np.arange(256, dtype=np.float32) / np.float32(255))


def _plane(mask: np.ndarray) -> np.ndarray:
    """float32 H x W from a painted mask, levels applied: brightest colour channel, times
    alpha if any (transparent = unpainted)."""
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[..., 0]
    if m.ndim == 2:
        return _UINT8_LEVELS[m] if m.dtype == np.uint8 else _levels(pixels.to_unit(m))
    if m.ndim != 3 or m.shape[2] > 4:
        raise ValueError(f"a mask is H x W or H x W x 1..4, not {m.shape}")
    colour = m[..., :m.shape[2] - pixels.has_alpha(m)].max(axis=2)
    out = pixels.to_unit(colour)
    if pixels.has_alpha(m):
        out *= pixels.to_unit(m[..., -1])
    return _levels(out)


def check_mask(mask: np.ndarray, image_shape: tuple[int, ...]) -> MaskInfo:
    """The artist's mask as used for the edit, or errors.InvalidInput when it would do
    nothing useful (nothing painted, everything painted). A mask of another size is
    stretched to the image, with a note in `warnings`."""
    h, w = int(image_shape[0]), int(image_shape[1])
    m = _plane(mask)
    notes = []
    if m.shape != (h, w):
        notes.append(errors.mask_resized(m.shape[1], m.shape[0], w, h))
        m = _levels(np.clip(pixels.resize(m, (h, w), method="BILINEAR"), 0.0, 1.0))
    box = _bbox(m > 0)
    if box is None:
        raise errors.mask_empty()
    if m.min() >= 1.0:
        raise errors.mask_covers_all()
    return MaskInfo(m, float(np.count_nonzero(m >= GUIDE_LEVEL)) / m.size, box, tuple(notes))


def polygon_mask(points, width: int, height: int) -> np.ndarray:
    """uint8 H x W (top-down), 255 inside the lasso: `points` are (u, v) image fractions
    from the bottom left (Blender's image coordinates), in drawing order; the polygon
    closes itself. A pixel is inside when its centre is (even-odd rule, so a lasso that
    crosses itself leaves the loops' overlap out, as Blender's lasso does). Scanline on
    the rows the lasso spans: one crossing per edge and row, no per-pixel test."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]        # a view that maps nowhere (not drawn yet) gives NaN
    if len(p) < 3:
        raise errors.mask_lasso_too_small()
    w, h = int(width), int(height)
    out = np.zeros((h, w), np.uint8)
    x, y = p[:, 0] * w, (1.0 - p[:, 1]) * h
    x2, y2 = np.roll(x, -1), np.roll(y, -1)
    # Rows whose centre r + 0.5 lies in [min y, max y) of each edge (half-open: a vertex
    # shared by two edges counts once; horizontal edges cross nothing).
    lo = np.clip(np.ceil(np.minimum(y, y2) - 0.5), 0, h).astype(np.int64)
    hi = np.clip(np.ceil(np.maximum(y, y2) - 0.5), 0, h).astype(np.int64)
    counts = hi - lo
    if not counts.any():
        return out
    edge = np.repeat(np.arange(len(p)), counts)
    starts = np.cumsum(counts) - counts
    rows = lo[edge] + np.arange(int(counts.sum())) - starts[edge]
    t = (rows + 0.5 - y[edge]) / (y2[edge] - y[edge])
    xc = x[edge] + t * (x2[edge] - x[edge])
    first = np.clip(np.floor(xc - 0.5).astype(np.int64) + 1, 0, w)     # first centre right of it
    r0, r1 = int(rows.min()), int(rows.max()) + 1
    toggles = np.zeros((r1 - r0, w + 1), np.uint8)
    np.add.at(toggles, (rows - r0, first), 1)
    inside = np.cumsum(toggles[:, :w], axis=1, dtype=np.uint8) & np.uint8(1)   # parity survives wrap
    out[r0:r1] = inside * np.uint8(255)
    return out


def paint_polygon(blender_pixels: np.ndarray, points, value: float = 1.0) -> None:
    """Fill a lasso into Blender mask pixels in place (H x W x 4 float32, bottom-up rows):
    RGB = `value` inside (1 adds to the area to change, 0 takes away), alpha opaque."""
    h, w = blender_pixels.shape[:2]
    inside = polygon_mask(points, w, h)[::-1] > 0
    blender_pixels[inside, :3] = value
    blender_pixels[..., 3] = 1.0


def _as_array(mask: MaskInfo | np.ndarray) -> np.ndarray:
    return mask.mask if isinstance(mask, MaskInfo) else np.asarray(mask, np.float32)


def default_feather_px(image_shape: tuple[int, ...]) -> int:
    return max(2, round(FEATHER_SHARE * max(image_shape[0], image_shape[1])))


# ---------------------------------------------------------------- guide
@dataclass(frozen=True)
class Guide:
    image: np.ndarray   # uint8 H x W x 3: the picture that shows the model the region
    mask: np.ndarray    # uint8 H x W: 255 = change, 0 = keep
    style: str
    colour: str         # marker colour's name, as the instruction says it

    def instruction(self, prompt: str) -> str:
        return INSTRUCTIONS[self.style].format(prompt=prompt.strip().rstrip("."), colour=self.colour)

    def image_png(self) -> bytes:
        return encode_png(self.image)

    def mask_png(self) -> bytes:
        return encode_png(self.mask)


def pick_marker(rgb: np.ndarray) -> tuple[str, tuple[int, int, int]]:
    """The first marker colour (nearly) absent from a uint8 RGB image, else the rarest."""
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 65536)))
    sample = rgb[::step, ::step, :3].reshape(-1, 3).astype(np.float32)
    shares = [float(np.mean(((sample - np.asarray(c, np.float32)) ** 2).sum(axis=1) < MARKER_NEAR ** 2))
              for _name, c in MARKERS]
    best = next((i for i, s in enumerate(shares) if s <= MARKER_RARE), int(np.argmin(shares)))
    return MARKERS[best]


def outline_px(image_shape: tuple[int, ...]) -> int:
    return max(2, round(max(image_shape[0], image_shape[1]) / 300))


def guide_image(original: np.ndarray, mask: MaskInfo | np.ndarray, style: str = "TINT") -> Guide:
    """What the model is shown next to the original: the region (mask >= GUIDE_LEVEL)
    tinted and outlined ("TINT"), outlined ("OUTLINE"), filled ("FILL") in a marker colour,
    or the black-and-white mask ("MASK"). Pixels outside the region are the original's."""
    if style not in INSTRUCTIONS:
        raise ValueError(f"unknown guide style {style!r}")
    o = np.asarray(original)
    region = _as_array(mask) >= GUIDE_LEVEL
    bw = region.astype(np.uint8) * np.uint8(255)
    rgb = pixels.convert_dtype(o if o.ndim == 3 else o[..., None], np.uint8)
    rgb = np.repeat(rgb[..., :1], 3, axis=2) if rgb.shape[2] < 3 else rgb[..., :3].copy()
    name, colour = pick_marker(rgb)
    if style == "MASK":
        return Guide(np.repeat(bw[..., None], 3, axis=2), bw, style, name)
    box = _bbox(region)
    if box is not None:
        t, lft, b, rgt = box
        view, inside = rgb[t:b, lft:rgt], region[t:b, lft:rgt]
        col = np.asarray(colour, np.float32)
        if style == "FILL":
            view[inside] = colour
        elif style == "TINT":
            view[inside] = np.rint(view[inside] * (1 - TINT_ALPHA) + col * TINT_ALPHA).astype(np.uint8)
        if style in ("TINT", "OUTLINE"):
            ring = np.pad(region, 1, mode="edge")[t:b + 2, lft:rgt + 2]  # the cut + 1 px around it
            edge = inside & ~filters.erode(ring, outline_px(o.shape))[1:-1, 1:-1]
            view[edge] = colour
    return Guide(rgb, bw, style, name)


# ---------------------------------------------------------------- composite
def _blend_into(out: np.ndarray, orig: np.ndarray, res: np.ndarray, m: np.ndarray) -> None:
    """out = orig where m == 0 (untouched), res where m == 1 (copied), a float blend only
    for the pixels in between. All four share one H x W grid."""
    full = m >= 1.0
    np.copyto(out, res, where=full if out.ndim == 2 else full[..., None])
    ys, xs = np.nonzero((m > 0) & ~full)
    if ys.size:
        ftype = np.float64 if orig.dtype == np.float64 else np.float32
        o: np.ndarray = orig[ys, xs].astype(ftype)
        r: np.ndarray = res[ys, xs].astype(ftype)
        w: np.ndarray = m[ys, xs].astype(ftype)
        mixed = o + (r - o) * (w if o.ndim == 1 else w[:, None])
        if orig.dtype.kind in "ui":
            mixed = np.clip(np.rint(mixed), 0, np.iinfo(orig.dtype).max)
        out[ys, xs] = mixed.astype(orig.dtype)


def composite(original: np.ndarray, result_aligned: np.ndarray, mask: MaskInfo | np.ndarray) -> np.ndarray:
    """original * (1 - m) + result * m in the original's dtype and channels. Where m == 0
    the output is the original bit for bit, where m == 1 the result's pixels (converted to
    the original's format); the original's alpha stays unless the result has its own."""
    o, m = np.asarray(original), _as_array(mask)
    if m.shape != o.shape[:2]:
        raise ValueError(f"mask is {m.shape}, image is {o.shape[:2]}")
    out = o.copy()
    box = _bbox(m > 0)
    if box is not None:
        t, lft, b, rgt = box
        r = pixels.match_format(np.asarray(result_aligned)[t:b, lft:rgt], o[t:b, lft:rgt])
        _blend_into(out[t:b, lft:rgt], o[t:b, lft:rgt], r, m[t:b, lft:rgt])
    return out


def apply_edit(original: np.ndarray, result: np.ndarray, mask: MaskInfo | np.ndarray, *,
               feather_px: int | None = None, align: bool = True) -> tuple[np.ndarray, tuple[int, int]]:
    """The model's answer (any size) put back into the original through the mask: shift
    found and undone, mask feathered inside the painted area, composite. Only the mask's
    bounding box is resampled and blended. Returns (image, shift)."""
    o, m = np.asarray(original), _as_array(mask)
    H, W = o.shape[:2]
    soft = feather(m, default_feather_px(o.shape) if feather_px is None else feather_px)
    if not soft.any():          # strokes thinner than the feather: use them as painted
        soft = m
    shift = estimate_shift(o, result, mask=m) if align else (0, 0)
    out = o.copy()
    box = _bbox(soft > 0)
    if box is not None:
        t, lft, b, rgt = box
        patch = pixels.match_format(aligned_region(np.asarray(result), (H, W), shift, *box),
                                    o[t:b, lft:rgt])
        _blend_into(out[t:b, lft:rgt], o[t:b, lft:rgt], patch, soft[t:b, lft:rgt])
    return out, shift

