"""Image bytes in and out, with Pillow (imported lazily): prepare inputs for the model,
read result dimensions cheaply, choose the nearest supported aspect ratio.

Inputs are downscaled to what the model works at (about 2K on the long side) and encoded
as JPEG when opaque or PNG when they carry transparency, so a 4K texture costs a few
hundred kilobytes of upload instead of tens of megabytes. Large files (up to 16K) are
read reduced: JPEG at decode time, others band by band, with one full-size copy at most.
"""
from __future__ import annotations

import io
import math
import struct
import threading
from collections.abc import Iterable

from . import errors

MAX_INPUT_SIDE = 2048          # the models work at 1K-2K; more only costs upload time
JPEG_QUALITIES = (95, 90, 85)   # tried in order until the image fits its budget
INLINE_LIMIT = 20 * 1024 * 1024  # total inline request size accepted by the API
PER_IMAGE_BUDGET = 2 * 1024 * 1024
# Largest image we decode (a 16K texture). Pillow's own guard (179 MP) would refuse it;
# ours stays above it against absurd or malicious files (a 100000² PNG header).
MAX_INPUT_PIXELS = 16384 * 16384
STRIP_PIXELS = 16384 * 512      # pixels per band when reducing a large image

_limit_lock = threading.Lock()


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


def _open(data: bytes):
    """Image.open (header only) without Pillow's pixel limit, which refuses a 16K texture
    (16384² is above its 179 MP). The limit is global to the process: it is lifted only
    while the header is parsed, under a lock, then restored for every other Pillow user.
    Our own limit (MAX_INPUT_PIXELS) is checked before any pixel is decoded."""
    Image = _pil()
    with _limit_lock:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(io.BytesIO(data))
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def load_checked(im) -> None:
    """im.load() for an image already checked against MAX_INPUT_PIXELS: some Pillow
    plugins (TIFF) apply Pillow's guard again when they decode, so it is lifted here too."""
    Image = _pil()
    with _limit_lock:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im.load()
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def probe(data: bytes) -> tuple[int, int, str]:
    """(width, height, mime) from the header only; raises MalformedResponse if unreadable."""
    Image = _pil()
    try:
        with _open(data) as im:
            mime = Image.MIME.get(im.format or "", "application/octet-stream")
            return im.width, im.height, mime
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise errors.malformed(f"image data is not a readable image: {type(exc).__name__}") from None


def check_output(data: bytes) -> tuple[int, int, str]:
    """(width, height, mime) of a result, checked on the worker thread so the main thread
    can pack it without forcing Blender's decode to find a broken one. PNG and JPEG by
    their structure, which finds an answer cut short or garbage without a pass over the
    pixels (decoding a 4K answer, or even Pillow's CRC pass over its 25 MB, cost the way
    from Gemini's answer to the artist 10-80 ms; over TLS and base64 the bytes that do
    arrive are the bytes sent, so a cut is what can go wrong); other formats decoded."""
    Image = _pil()
    try:
        with _open(data) as im:         # the caller checked the size from the header
            if im.format == "PNG":
                _png_complete(data)
            elif im.format == "JPEG":
                _jpeg_complete(data)
            else:
                im.load()
            return im.width, im.height, Image.MIME.get(im.format or "", "application/octet-stream")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise errors.malformed(f"image data is not a readable image: {type(exc).__name__}") from None


class Incomplete(ValueError):
    """An image's structure ends before its end (a cut answer)."""


def _png_complete(data: bytes) -> None:
    """Every chunk lies inside `data`, image data is there and IEND comes last (lengths
    and names only: a few hundred chunks, no pass over the bytes)."""
    pos, size, idat = 8, len(data), False
    while True:
        if pos + 12 > size:
            raise Incomplete("PNG cut before IEND")
        length, kind = struct.unpack_from(">I4s", data, pos)
        pos += 12 + length
        if pos > size:
            raise Incomplete(f"PNG chunk {kind!r} cut short")
        if kind == b"IDAT":
            idat = True
        elif kind == b"IEND":
            if not idat:
                raise Incomplete("PNG without image data")
            return


def _jpeg_complete(data: bytes) -> None:
    """Pillow read the segments up to the scan; the scan must end with EOI (FFD9, which
    cannot occur inside entropy-coded data), allowing a little padding after it."""
    if data.rfind(b"\xff\xd9", max(0, len(data) - 64)) < 0:
        raise Incomplete("JPEG cut before its end marker")


def _may_have_alpha(im) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info


def _eight_bit(im, alpha: bool):
    """RGB or RGBA, 8 bits a channel (16-bit grey scaled, not clipped)."""
    if im.mode.startswith("I;16"):
        im = im.point(lambda v: v / 256).convert("L")
    elif im.mode in ("I", "F"):
        im = im.convert("L")
    want = "RGBA" if alpha else "RGB"
    return im if im.mode == want else im.convert(want)


def _shared_raw(im, data: bytes):
    """An uncompressed image stored as one run of rows (the TIFF capture.py writes for a
    large painted texture) as a Pillow image over `data` itself, not decoded into a second
    full-size copy; None for any other layout."""
    tiles = getattr(im, "tile", None) or []
    if im.mode not in ("RGBA", "RGB", "L") or not tiles:
        return None
    w, h = im.size
    row = w * len(im.mode)
    start = tiles[0].offset if hasattr(tiles[0], "offset") else tiles[0][2]
    at = start
    for tile in tiles:
        codec, box, offset, args = tuple(tile)[:4]
        args = args if isinstance(args, tuple) else (args,)
        if (codec != "raw" or args[0] != im.mode or (len(args) > 1 and args[1] not in (0, row))
                or (len(args) > 2 and args[2] != 1) or box[0] != 0 or box[2] != w or offset != at):
            return None
        at += (box[3] - box[1]) * row
    if at != start + h * row or at > len(data):
        return None
    return _pil().frombuffer(im.mode, (w, h), memoryview(data)[start:at], "raw", im.mode, 0, 1)


def _reduce_in_strips(im, factor: int, alpha: bool):
    """Box-reduce by an integer factor, a band of rows at a time: the only full-size
    copy is the decoded image itself (no converted or premultiplied copy of it)."""
    Image = _pil()
    w, h = im.size
    out = Image.new("RGBA" if alpha else "RGB", (-(-w // factor), -(-h // factor)))
    band = factor * max(1, STRIP_PIXELS // max(1, w * factor))
    for top in range(0, h, band):
        strip = im.crop((0, top, w, min(h, top + band)))
        out.paste(_eight_bit(strip, alpha).reduce(factor), (0, top // factor))
    return out


def read_reduced(data: bytes, max_side: int, *, name: str = ""):
    """Decode an image at most `max_side` px on its long side, RGB or RGBA (RGBA only when
    some pixel is transparent), without ever holding more than one full-size copy: JPEG
    is decoded already reduced (draft), others reduced band by band. Images up to
    MAX_INPUT_PIXELS are read; beyond, or unreadable, an InvalidInput names the cause."""
    Image = _pil()
    try:
        im = _open(data)
    except Image.UnidentifiedImageError:
        raise errors.image_unreadable(name) from None
    except Exception as exc:  # noqa: BLE001 - a damaged header
        raise errors.image_damaged(name, exc) from None
    with im:
        w, h = im.size
        if w * h > MAX_INPUT_PIXELS:
            raise errors.image_too_large(name, w, h, MAX_INPUT_PIXELS)
        if max(w, h) >= 2 * max_side:
            im = _shared_raw(im, data) or im
        scale = min(1.0, max_side / max(w, h))
        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        try:
            im.draft(None, target)      # JPEG: decode at 1/2, 1/4 or 1/8 directly
            load_checked(im)
            alpha = _may_have_alpha(im)
            factor = max(im.size) // max_side
            if factor >= 2 and im.width * factor <= STRIP_PIXELS:
                small = _reduce_in_strips(im, factor, alpha)
            else:
                small = _eight_bit(im, alpha)
        except MemoryError:
            raise errors.image_out_of_memory(name, w, h) from None
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt pixel data
            raise errors.image_damaged(name, exc) from None
    if small.size != target:
        small = small.resize(target, Image.Resampling.LANCZOS)
    if alpha and small.getchannel("A").getextrema()[0] == 255:
        small = small.convert("RGB")        # an alpha channel nobody uses
    return small


def prepare_input(data: bytes, *, max_side: int = MAX_INPUT_SIDE,
                  budget: int = PER_IMAGE_BUDGET, name: str = "") -> tuple[bytes, str]:
    """Downscale and re-encode an input image for upload. Returns (bytes, mime)."""
    Image = _pil()
    im = read_reduced(data, max_side, name=name)
    alpha = im.mode == "RGBA"
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
    im = read_reduced(data, side)
    im.thumbnail((side, side))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()
