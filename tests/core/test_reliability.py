"""Issue 16, core side: the faults an outside run found, as the artist would notice them.

- a server that trickles its answer cannot stretch the timeout preference;
- Cancel stops the waiting, not the paid request: a late image lands in History, marked;
- an API key (any key-shaped text) is never written to history nor shown in a status;
- a 16K PNG is read (downscaled for upload); a truly absurd one is refused with the real
  cause and a fix that works.
Real google-genai against the fake server where a request is involved."""
from __future__ import annotations

import base64
import io
import struct
import threading
import zlib

import pytest
from conftest import KEY

from nanobanana_addon.core import errors, history, images, pipeline
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.request import GenerationRequest, InputImage, JobKind

MODEL = "gemini-nano-banana-2.1"


def config(fake, **kw) -> ClientConfig:
    cfg = dict(api_key=KEY, base_url=fake.url, timeout_s=10.0, attempts=1)
    cfg.update(kw)
    return ClientConfig(**cfg)


# ------------------------------------------------------------------ 4. big images
def gray_png(width: int, height: int, body: bool = True) -> bytes:
    """8-bit grayscale PNG of a horizontal gradient, built row by row (rows after the
    first use the Up filter, so a 16K image compresses to a few hundred KB fast).
    body=False: the header only (an image that claims a size, for size checks)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    idat = b""
    if body:
        comp = zlib.compressobj(1)
        first = b"\x00" + bytes(x * 255 // max(width - 1, 1) for x in range(width))
        rest = b"\x02" + bytes(width)
        parts = [comp.compress(first)]
        block = rest * 256
        for _ in range((height - 1) // 256):
            parts.append(comp.compress(block))
        parts.append(comp.compress(rest * ((height - 1) % 256)))
        parts.append(comp.flush())
        idat = b"".join(parts)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def png_16k() -> bytes:
    return gray_png(16384, 16384)


def test_a_16k_png_on_disk_is_sent_downscaled(tmp_path, fake, png_16k):
    assert images.probe(png_16k)[:2] == (16384, 16384)          # the main thread's header read
    request = GenerationRequest(MODEL, "paint moss on it", kind=JobKind.EDIT_TEXTURE,
                                images=[InputImage(png_16k, "image/png", "edit", "wall_16k.png")])
    outcome = pipeline.run(request, config(fake), history.History(tmp_path), threading.Event())
    assert outcome.image_count == 1
    parts = fake.generate_requests[0].body["contents"][0]["parts"]
    (sent,) = [base64.urlsafe_b64decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p]
    from PIL import Image
    with Image.open(io.BytesIO(sent)) as im:
        assert im.size == (2048, 2048)
        im = im.convert("L")
        left, right = im.getpixel((8, 1024)), im.getpixel((2040, 1024))
    assert left < 10 and right > 245                             # the gradient, not noise


@pytest.mark.parametrize("size", [(20000, 20000), (100_000, 100_000), (65_000, 8000)])
def test_a_truly_absurd_image_is_refused_with_its_size_and_a_fix(size):
    w, h = size
    with pytest.raises(errors.InvalidInput) as caught:
        images.prepare_input(gray_png(w, h, body=False), name="huge.png")
    msg = str(caught.value)
    assert f"{w}×{h}" in msg and "huge.png" in msg
    assert "16384×16384" in msg and "Scale it down" in msg
    assert "DecompressionBomb" not in msg and "Save it as PNG" not in msg


def test_unreadable_and_damaged_images_name_the_real_cause():
    with pytest.raises(errors.InvalidInput) as caught:
        images.prepare_input(b"not an image at all", name="notes.txt")
    assert "notes.txt" in str(caught.value) and "not an image" in str(caught.value)
    damaged = gray_png(64, 64)[:60]
    with pytest.raises(errors.InvalidInput) as caught:
        images.prepare_input(damaged, name="cut.png")
    assert "damaged or incomplete" in str(caught.value) and "Save it as PNG" not in str(caught.value)


def test_reading_a_big_image_leaves_pillows_limit_as_it_was():
    from PIL import Image
    before = Image.MAX_IMAGE_PIXELS
    images.probe(gray_png(16384, 16384, body=False))
    assert Image.MAX_IMAGE_PIXELS == before
    with pytest.raises(Image.DecompressionBombError):           # other Pillow users keep the guard
        Image.open(io.BytesIO(gray_png(16384, 16384, body=False)))
