"""Stdlib-only image bytes helpers for the fake Gemini server: a fast 8-bit RGB
PNG encoder (rows built with bytes operations, streamed through zlib), a small
PNG decoder (8-bit gray/RGB/RGBA, all filter types, non-interlaced) for tests,
and a sniffer that reads width/height from PNG, JPEG, GIF and WebP headers.
"""
from __future__ import annotations

import struct
import zlib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png_rows(width: int, height: int, rows, level: int = 1) -> bytes:
    """Encode an 8-bit RGB PNG. ``rows`` yields ``height`` byte strings of
    3*width bytes each (no filter byte)."""
    comp = zlib.compressobj(level)
    out, pending, pend_len = [], [], 0
    for row in rows:
        pending.append(b"\x00")
        pending.append(row)
        pend_len += len(row) + 1
        if pend_len >= 1 << 20:
            out.append(comp.compress(b"".join(pending)))
            pending, pend_len = [], 0
    out.append(comp.compress(b"".join(pending)))
    out.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_MAGIC + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(out)) + _chunk(b"IEND", b"")


def encode_png_rgb(width: int, height: int, raw: bytes, level: int = 1) -> bytes:
    """Encode packed RGB bytes (row-major, 3*width*height bytes)."""
    stride = 3 * width
    return encode_png_rows(width, height, (raw[i * stride:(i + 1) * stride] for i in range(height)), level)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes):
    """Decode a non-interlaced 8-bit PNG -> (width, height, channels, rows)
    where rows is a list of bytes (channels*width each). Slow filters 1-4 are
    done in Python; fine for test-sized images."""
    if data[:8] != PNG_MAGIC:
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            raise ValueError("bad CRC in %r chunk" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        raise ValueError("no IHDR")
    width, height, depth, ctype, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError("unsupported PNG layout")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        base = y * (stride + 1)
        ftype, cur = raw[base], bytearray(raw[base + 1:base + 1 + stride])
        if ftype == 1:
            for i in range(channels, stride):
                cur[i] = (cur[i] + cur[i - channels]) & 255
        elif ftype == 2:
            for i in range(stride):
                cur[i] = (cur[i] + prev[i]) & 255
        elif ftype == 3:
            for i in range(stride):
                left = cur[i - channels] if i >= channels else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                left = cur[i - channels] if i >= channels else 0
                ul = prev[i - channels] if i >= channels else 0
                cur[i] = (cur[i] + _paeth(left, prev[i], ul)) & 255
        elif ftype != 0:
            raise ValueError("bad filter type %d" % ftype)
        rows.append(bytes(cur))
        prev = cur
    return width, height, channels, rows


def image_dimensions(data: bytes):
    """(width, height) from PNG / JPEG / GIF / WebP bytes, else None."""
    try:
        if data[:8] == PNG_MAGIC and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            kind = data[12:16]
            if kind == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if kind == b"VP8L":
                b = data[21:25]
                w = 1 + (((b[1] & 0x3F) << 8) | b[0])
                h = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
                return w, h
            if kind == b"VP8X":
                w = 1 + int.from_bytes(data[24:27], "little")
                h = 1 + int.from_bytes(data[27:30], "little")
                return w, h
            return None
        if data[:2] == b"\xff\xd8":
            pos = 2
            while pos + 4 <= len(data):
                if data[pos] != 0xFF:
                    pos += 1
                    continue
                marker = data[pos + 1]
                if marker == 0xFF:
                    pos += 1
                    continue
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                    pos += 2
                    continue
                (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
                    return w, h
                pos += 2 + length
    except (struct.error, IndexError):
        return None
    return None


def looks_like_image(data: bytes) -> bool:
    """True when the bytes start like a PNG, JPEG, GIF, WebP or HEIF/AVIF file."""
    return (data[:8] == PNG_MAGIC or data[:3] == b"\xff\xd8\xff"
            or data[:6] in (b"GIF87a", b"GIF89a")
            or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
            or data[4:8] == b"ftyp")
