"""Image bytes in and out, with Pillow (imported lazily): prepare inputs for the model,
read result dimensions cheaply, choose the nearest supported aspect ratio.

Inputs are downscaled to what the model works at (about 2K on the long side) and encoded
as JPEG when opaque or PNG when they carry transparency, so a 4K texture costs a few
hundred kilobytes of upload instead of tens of megabytes.
"""
from __future__ import annotations

import io
import math
from collections.abc import Iterable

from . import errors

MAX_INPUT_SIDE = 2048          # the models work at 1K-2K; more only costs upload time
JPEG_QUALITIES = (95, 90, 85)   # tried in order until the image fits its budget
INLINE_LIMIT = 20 * 1024 * 1024  # total inline request size accepted by the API
PER_IMAGE_BUDGET = 2 * 1024 * 1024


def _pil():
    from PIL import Image  # lazy: keeps add-on start-up free of Pillow
    return Image


def parse_ratio(ratio: str) -> float:
    w, h = ratio.split(":")
    return float(w) / float(h)


def nearest_aspect_ratio(width: int, height: int, ratios: Iterable[str]) -> str:
    """The supported ratio closest to width:height (compared on a log scale)."""
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    target = math.log(width / height)
    return min(ratios, key=lambda r: abs(math.log(parse_ratio(r)) - target))


def probe(data: bytes) -> tuple[int, int, str]:
    """(width, height, mime) from the header only; raises MalformedResponse if unreadable."""
    Image = _pil()
    try:
        with Image.open(io.BytesIO(data)) as im:
            mime = Image.MIME.get(im.format or "", "application/octet-stream")
            return im.width, im.height, mime
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise errors.malformed(f"image data is not a readable image: {type(exc).__name__}") from None


def check_output(data: bytes) -> tuple[int, int, str]:
    """(width, height, mime) of a result after decoding it completely (worker thread), so
    the main thread can pack it without forcing Blender's decode to find a broken one."""
    Image = _pil()
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return im.width, im.height, Image.MIME.get(im.format or "", "application/octet-stream")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise errors.malformed(f"image data is not a readable image: {type(exc).__name__}") from None


def _has_alpha(im) -> bool:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        alpha = im.convert("RGBA").getchannel("A")
        lo, _hi = alpha.getextrema()
        return lo < 255
    return False


def prepare_input(data: bytes, *, max_side: int = MAX_INPUT_SIDE,
                  budget: int = PER_IMAGE_BUDGET) -> tuple[bytes, str]:
    """Downscale and re-encode an input image for upload. Returns (bytes, mime)."""
    Image = _pil()
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as exc:  # noqa: BLE001
        raise errors.InvalidInput(f"The input image could not be read ({type(exc).__name__}). "
                                  "Save it as PNG or JPEG and try again.") from None
    if im.mode in ("I;16", "I;16B", "I", "F"):
        im = im.point(lambda v: v / 256).convert("L") if im.mode.startswith("I;16") else im.convert("L")
    alpha = _has_alpha(im)
    im = im.convert("RGBA" if alpha else "RGB")
    scale = min(1.0, max_side / max(im.size))
    if scale < 1.0:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                       Image.Resampling.LANCZOS)
    while True:
        for quality in (None,) if alpha else JPEG_QUALITIES:
            buf = io.BytesIO()
            if alpha:
                im.save(buf, "PNG", compress_level=6)
            else:   # full-resolution chroma: textures have fine colour detail
                im.save(buf, "JPEG", quality=quality, subsampling=0, optimize=True)
            out = buf.getvalue()
            if len(out) <= budget:
                return out, "image/png" if alpha else "image/jpeg"
        if max(im.size) <= 512:
            return out, "image/png" if alpha else "image/jpeg"
        im = im.resize((max(1, im.width * 3 // 4), max(1, im.height * 3 // 4)),
                       Image.Resampling.LANCZOS)


def check_total(sizes: Iterable[int]) -> None:
    total = sum(sizes)
    if total > INLINE_LIMIT * 0.95:
        raise errors.input_too_large(total / 1024 / 1024)


def thumbnail(data: bytes, side: int = 128) -> bytes:
    """Small PNG thumbnail (for history sidecars and the gallery)."""
    Image = _pil()
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
        im.thumbnail((side, side))
        buf = io.BytesIO()
        im.save(buf, "PNG")
        return buf.getvalue()
