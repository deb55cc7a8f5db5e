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
import json
import struct
import threading
import time
import zlib

import google.genai  # noqa: F401 - imported here, so its first import (1-3 s) is in no deadline
import pytest
from conftest import KEY
from fake_gemini import responses as R

from nanobanana_addon.core import errors, history, images, pipeline
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.jobs import Job, JobManager, JobState
from nanobanana_addon.core.request import GenerationRequest, InputImage, JobKind

MODEL = "gemini-nano-banana-2.1"
# Key-shaped strings that are NOT the configured key: one pasted by the artist into the
# prompt, one echoed back by Gemini. (Made up: AIza + 35 characters.)
PASTED = "AIzaSy" + "Cx7Qm2-pL9_vR4tN8wZ1kB6yH3jD0fG5s"
ECHOED = "AIzaSy" + "DQ9w8E7r6T5y4U3i2O1p0A-s_D4f5G6h7"
assert len(PASTED) == len(ECHOED) == 39


def http_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("nanobanana-http") and t.is_alive()]


def wait_until(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def config(fake, **kw) -> ClientConfig:
    cfg = dict(api_key=KEY, base_url=fake.url, timeout_s=10.0, attempts=1)
    cfg.update(kw)
    return ClientConfig(**cfg)


# ------------------------------------------------------------------ 1. overall deadline
def test_a_trickling_answer_ends_at_the_timeout_preference(fake, make_client):
    # Headers at once, then a few bytes every 0.1 s: no single socket read ever waits
    # 2 s, so only an overall deadline can end it (the whole body would take ~40 s).
    fake.image_scale = 0.02
    make_client(timeout_s=30).generate(GenerationRequest(MODEL, "warm-up"))  # SDK imported
    client = make_client(timeout_s=2.0, attempts=3)
    fake.script(R.trickle(bytes_per_second=100, chunk=10))
    t0 = time.monotonic()
    with pytest.raises(errors.Timeout) as caught:
        client.generate(GenerationRequest(MODEL, "a brick wall"))
    took = time.monotonic() - t0
    assert 1.9 <= took < 2.8, took
    assert str(caught.value) == ("Gemini did not answer within 2 s (Nano Banana 2.1). Try again, "
                                 "or raise the timeout in Preferences > Add-ons > Nano Banana.")
    assert len(fake.generate_requests) == 2                     # a timeout is not retried
    # The abandoned request is closed, not left reading: the server sees the client go.
    assert fake.generate_requests[1].answered.wait(2)
    assert wait_until(lambda: not http_threads(), 1.0), http_threads()


def test_the_deadline_covers_retries_too(fake, make_client):
    # 503, then an answer that trickles: the retry only gets what is left of the 2 s.
    fake.image_scale = 0.02
    make_client(timeout_s=30).generate(GenerationRequest(MODEL, "warm-up"))
    client = make_client(timeout_s=2.0, attempts=3, backoff_s=0.3)
    fake.script(R.server_error(503), R.trickle(bytes_per_second=100, chunk=10))
    t0 = time.monotonic()
    with pytest.raises(errors.Timeout):
        client.generate(GenerationRequest(MODEL, "wall"))
    assert time.monotonic() - t0 < 2.8
    assert [r.status for r in fake.generate_requests] == [200, 503, 200]   # retried once, then cut


# ------------------------------------------------------------------ 2. cancel keeps paid images
def run_job(jobs: JobManager, request: GenerationRequest, cfg: ClientConfig, hist) -> Job:
    job = Job(request.prompt, request.model, JobKind.GENERATE, expected_s=1.0)
    return jobs.submit(job, lambda cancel: pipeline.run(request, cfg, hist, cancel, "/p/scene.blend"))


def test_cancel_reports_at_once_and_the_late_image_goes_to_history_marked(tmp_path, fake):
    fake.script(R.slow(1.0))
    hist = history.History(tmp_path)
    jobs = JobManager()
    job = run_job(jobs, GenerationRequest(MODEL, "mossy stone"), config(fake), hist)
    assert fake.wait_for_requests(1, timeout=5)
    t0 = time.monotonic()
    jobs.cancel(job.id)
    assert job.state == JobState.CANCELLED and time.monotonic() - t0 < 0.2
    assert str(job.error) == "Cancelled: if Gemini still answers, the image will be in History."
    assert hist.entries() == []                                  # nothing yet: it is still coming
    # Gemini answers after the cancel (and bills for it): the image is kept, marked.
    assert wait_until(lambda: hist.entries(), 5)
    (entry,) = hist.entries()
    sent = fake.generate_requests[0].response["candidates"][0]["content"]["parts"]
    data = next(base64.b64decode(p["inlineData"]["data"]) for p in sent if "inlineData" in p)
    assert entry.image_path is not None and entry.image_path.read_bytes() == data
    assert entry.meta["cancelled"] is True and entry.prompt == "mossy stone"
    assert entry.meta["blend_file"] == "/p/scene.blend"
    assert json.loads(entry.sidecar.read_text())["cancelled"] is True
    # The job itself stays cancelled: nothing is applied to the scene.
    assert jobs.drain() == [job] and job.result is None and job.state == JobState.CANCELLED
    assert wait_until(lambda: not http_threads(), 1.0)


def test_a_finished_job_is_not_marked_cancelled(tmp_path, fake):
    hist = history.History(tmp_path)
    outcome = pipeline.run(GenerationRequest(MODEL, "tiles"), config(fake), hist, threading.Event())
    assert outcome.entries[0].meta.get("cancelled") is None


def test_a_cancelled_request_is_still_abandoned_at_the_deadline(tmp_path, fake):
    fake.image_scale = 0.02
    fake.script(R.trickle(bytes_per_second=100, chunk=10))
    hist = history.History(tmp_path)
    jobs = JobManager()
    job = run_job(jobs, GenerationRequest(MODEL, "slow one"), config(fake, timeout_s=1.5), hist)
    assert fake.wait_for_requests(1, timeout=5)
    t0 = time.monotonic()
    jobs.cancel(job.id)
    assert job.state == JobState.CANCELLED
    answered = fake.generate_requests[0].answered
    assert not answered.wait(0.6) and http_threads()            # still listening for the image...
    assert answered.wait(2.0) and time.monotonic() - t0 < 2.0    # ...until the deadline, not longer
    assert wait_until(lambda: not http_threads(), 1.0)
    assert hist.entries() == []


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


def test_an_absurd_image_from_the_server_is_refused_before_blender_decodes_it(fake, make_client):
    huge = base64.b64encode(gray_png(100_000, 100_000, body=False)).decode("ascii")
    fake.script(R.custom(200, {"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": huge}}]}, "finishReason": "STOP", "index": 0}]}))
    with pytest.raises(errors.MalformedResponse, match="100000×100000"):
        make_client(attempts=1).generate(GenerationRequest(MODEL, "wall"))


def test_reading_a_big_image_leaves_pillows_limit_as_it_was():
    from PIL import Image
    before = Image.MAX_IMAGE_PIXELS
    images.probe(gray_png(16384, 16384, body=False))
    assert Image.MAX_IMAGE_PIXELS == before
    with pytest.raises(Image.DecompressionBombError):           # other Pillow users keep the guard
        Image.open(io.BytesIO(gray_png(16384, 16384, body=False)))
