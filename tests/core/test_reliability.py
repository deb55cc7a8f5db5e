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
from fake_gemini import responses as R

from nanobanana_addon.core import errors, history, images, pipeline
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.request import GenerationRequest, InputImage, JobKind

MODEL = "gemini-nano-banana-2.1"
# Key-shaped strings that are NOT the configured key: one pasted by the artist into the
# prompt, one echoed back by Gemini. (Made up: AIza + 35 characters.)
PASTED = "AIzaSy" + "Cx7Qm2-pL9_vR4tN8wZ1kB6yH3jD0fG5s"
ECHOED = "AIzaSy" + "DQ9w8E7r6T5y4U3i2O1p0A-s_D4f5G6h7"
assert len(PASTED) == len(ECHOED) == 39


def config(fake, **kw) -> ClientConfig:
    cfg = dict(api_key=KEY, base_url=fake.url, timeout_s=10.0, attempts=1)
    cfg.update(kw)
    return ClientConfig(**cfg)


# ------------------------------------------------------------------ 3. keys are never written
def test_redact_hides_any_key_shaped_text_and_the_configured_key():
    text = f"key={PASTED}; also {ECHOED}, {KEY} and ?key=abc&x=1 and ya29.a0AfB_byC-token_1"
    out = errors.redact(text, KEY)
    for secret in (PASTED, ECHOED, KEY, "abc", "ya29.a0AfB_byC-token_1"):
        assert secret not in out
    assert out.count("[API key]") == 5
    assert errors.redact("AIza is a prefix, AIzaShort is not a key") == "AIza is a prefix, AIzaShort is not a key"


def test_a_key_in_the_prompt_or_in_geminis_answer_never_reaches_history_or_status(tmp_path, fake):
    fake.script(R.image(text=f"Done. (Your key {ECHOED} is visible, by the way.)"))
    hist = history.History(tmp_path)
    prompt = f"weathered brick, my key is {PASTED}"
    outcome = pipeline.run(GenerationRequest("gemini-3-pro-image", prompt), config(fake), hist,
                           threading.Event())
    # What is sent is the artist's prompt, untouched.
    assert fake.generate_requests[0].body["contents"][0]["parts"][0]["text"] == prompt
    # Nothing on disk holds a key: sidecar prompt, conversation, Gemini's text, blobs.
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert PASTED.encode() not in raw and ECHOED.encode() not in raw and KEY.encode() not in raw
    meta = outcome.entries[0].meta
    assert meta["prompt"] == "weathered brick, my key is [API key]"
    assert "[API key]" in meta["text"]
    turn_texts = [p.get("text", "") for t in meta["conversation"] for p in t["parts"]]
    assert "weathered brick, my key is [API key]" in turn_texts
    # The thought signatures and images are stored byte for byte (refine still works).
    loaded = hist.load_turns(outcome.entries[0])[-1].parts
    original = outcome.results[0].turns[-1].parts
    assert [(p.thought_signature, p.data) for p in loaded] == [(p.thought_signature, p.data) for p in original]
    # The status line the artist reads.
    status = errors.result_summary(1, "Nano Banana Pro", 1.0, 0.134, outcome.failures,
                                   outcome.warnings, outcome.results[0].text)
    assert ECHOED not in status and "[API key]" in status


def test_a_key_in_a_refusal_is_hidden_in_the_message_and_the_failure_record(tmp_path, fake):
    fake.script(R.text_only(f"I won't use {ECHOED}. Which style?"))
    hist = history.History(tmp_path)
    with pytest.raises(errors.TextOnly) as caught:
        pipeline.run(GenerationRequest(MODEL, f"use {PASTED}"), config(fake), hist, threading.Event())
    assert ECHOED not in str(caught.value) and "[API key]" in str(caught.value)
    assert ECHOED not in caught.value.model_text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert PASTED.encode() not in raw and ECHOED.encode() not in raw


def test_other_messages_hide_keys_too():
    assert PASTED not in errors.apply_failed(RuntimeError(f"bad {PASTED}"))
    assert PASTED not in str(errors.prepare_failed(ValueError(PASTED)))
    assert PASTED not in str(errors.malformed(f"junk {PASTED}"))
    assert PASTED not in str(errors.NanoBananaError(f"anything {PASTED}", detail=PASTED))


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
