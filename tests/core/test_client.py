"""The Gemini client through the real google-genai SDK against the fake server: every
feature and every fault ends as images or a typed error with the user's words."""
from __future__ import annotations

import threading
import time

import pytest
from conftest import KEY, png
from fake_gemini import responses as R

from nanobanana_addon.core import errors
from nanobanana_addon.core.client import ClientConfig, GeminiClient
from nanobanana_addon.core.request import GenerationRequest, InputImage

FLASH, PRO = "gemini-3.1-flash-lite-image", "gemini-3-pro-image"


def req(prompt="a mossy brick wall", model=FLASH, **kw) -> GenerationRequest:
    return GenerationRequest(model=model, prompt=prompt, **kw)


def test_text_to_image(fake, make_client):
    result = make_client().generate(req(aspect_ratio="16:9"))
    (sent,) = fake.generate_requests
    assert sent.headers["x-goog-api-key"] == KEY and not sent.key_in_url and KEY not in sent.path
    assert sent.body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}
    assert sent.body["contents"][0]["parts"][0]["text"] == "a mossy brick wall"
    (img,) = result.images
    assert (img.width, img.height) == sent.image_size and img.mime_type == "image/png"
    assert result.text == "Here is your image." and result.finish_reason == "STOP"
    assert result.usage.output_tokens > 0 and result.cost_usd == pytest.approx(0.034, abs=0.002)
    assert [t.role for t in result.turns] == ["user", "model"]
    assert any(p.thought_signature for p in result.turns[1].parts)


def test_thought_parts_are_not_images_or_text(fake, make_client):
    fake.script(R.image(thought_image=True))
    result = make_client().generate(req(model=PRO, image_size="2K"))
    assert len(result.images) == 1 and "Planning" not in result.text
    assert fake.generate_requests[0].body["generationConfig"]["imageConfig"] == {"imageSize": "2K"}


def test_size_is_not_sent_to_a_model_without_tiers(fake, make_client):
    make_client().generate(req(image_size="4K"))
    assert "imageConfig" not in fake.generate_requests[0].body.get("generationConfig", {})


def test_edit_sends_the_image_and_references_with_labels(fake, make_client):
    edit = InputImage(png(80, 40), "image/png", "edit", "render")
    ref = InputImage(png(10, 10, color=(0, 255, 0)), "image/png", "reference", "moss.png")
    result = make_client().generate(req("make it stone", images=[edit, ref]))
    parts = fake.generate_requests[0].body["contents"][0]["parts"]
    texts = [p.get("text") for p in parts if "text" in p]
    assert texts == ["make it stone", "Image to edit:", "Reference image 1 (moss.png):"]
    assert sum("inlineData" in p for p in parts) == 2
    assert result.images and result.images[0].width / result.images[0].height == pytest.approx(2, rel=0.3)


def test_refine_sends_previous_turns_with_signatures_unchanged(fake, make_client):
    client = make_client()
    first = client.generate(req(model=PRO))
    second = client.generate(req("now at night", model=PRO, history=first.turns))
    body = fake.generate_requests[1].body
    assert fake.generate_requests[1].status == 200
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    sent_sigs = [p["thoughtSignature"] for p in body["contents"][1]["parts"] if "thoughtSignature" in p]
    assert sent_sigs and all(s in fake.issued_signatures for s in sent_sigs)
    assert len(second.turns) == 4


def test_refine_with_a_lost_signature_is_rejected_by_the_api(fake, make_client):
    client = make_client()
    first = client.generate(req(model=PRO))
    from dataclasses import replace
    stripped = [replace(t, parts=tuple(replace(p, thought_signature=None) for p in t.parts)) for t in first.turns]
    with pytest.raises(errors.BadRequest, match="thought"):
        client.generate(req("again", model=PRO, history=stripped))


def test_variations_are_parallel_requests(fake, make_client):
    fake.latency = 1.0
    out = {}
    worker = threading.Thread(target=lambda: out.update(r=make_client().generate_variations(req(variations=4))))
    worker.start()
    assert fake.wait_for_requests(4, timeout=5)
    # All four were sent before the first answer came back: in parallel, not in turn.
    assert not any(r.answered.is_set() for r in fake.generate_requests)
    worker.join(10)
    results, failures = out["r"]
    assert failures == [] and len(results) == 4
    assert len({r.images[0].data for r in results}) == 4        # each a different image


def test_variations_report_partial_failures(fake, make_client):
    fake.script(R.image(), R.finish("IMAGE_SAFETY"))
    results, failures = make_client(attempts=1).generate_variations(req(variations=2))
    assert len(results) == 1 and len(failures) == 1 and isinstance(failures[0], errors.ImageRefused)


FAULTS = [
    (R.api_key_invalid, errors.InvalidKey, "API key was rejected", errors.FIX_PREFERENCES),
    (R.permission_denied, errors.PermissionDenied, "permission denied", errors.FIX_PREFERENCES),
    (lambda: R.not_found(FLASH), errors.ModelNotFound, "not available", errors.FIX_SWITCH_MODEL),
    (lambda: R.blocked("PROHIBITED_CONTENT"), errors.PromptBlocked, "prohibited content", None),
    (lambda: R.blocked("SAFETY"), errors.PromptBlocked, "safety filters", None),
    (lambda: R.text_only("Do you want it tileable?"), errors.TextOnly, "Do you want it tileable?", None),
    (R.not_json, errors.MalformedResponse, "could not be read", None),
    (R.bad_base64, errors.MalformedResponse, "could not be read", None),
    (R.garbage_image, errors.MalformedResponse, "could not be read", None),
    (lambda: R.error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
     errors.BadRequest, "invalid argument", None),
]


@pytest.mark.parametrize("behaviour, kind, words, fix", FAULTS)
def test_each_fault_is_typed_with_words_and_fix(fake, make_client, behaviour, kind, words, fix):
    fake.script(behaviour())
    with pytest.raises(kind) as caught:
        make_client(attempts=1).generate(req())
    assert words in str(caught.value) and caught.value.fix == fix
    assert KEY not in str(caught.value) and KEY not in caught.value.detail


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
                                    "IMAGE_OTHER", "NO_IMAGE", "SAFETY", "PROHIBITED_CONTENT",
                                    "RECITATION", "MAX_TOKENS", "OTHER"])
def test_each_refusal_reason_is_named_and_model_text_shown(fake, make_client, reason):
    fake.script(R.finish(reason, text="I can't draw that."))
    with pytest.raises(errors.ImageRefused) as caught:
        make_client(attempts=1).generate(req())
    assert reason in str(caught.value) and "I can't draw that." in str(caught.value)


def test_quota_retries_honour_retry_info_then_succeed(fake, make_client):
    fake.script(R.quota(retry_delay="0.3s"), R.quota(retry_delay="0.3s"), R.image())
    result = make_client(attempts=3).generate(req())
    first, second, third = fake.generate_requests
    assert [r.status for r in fake.generate_requests] == [429, 429, 200]
    assert second.received_at - first.received_at >= 0.28
    assert third.received_at - second.received_at >= 0.28
    assert result.attempts == 3


def test_quota_longer_than_the_cap_fails_at_once_with_the_wait(fake, make_client):
    fake.script(R.quota(retry_delay="40s"))
    t0 = time.monotonic()
    with pytest.raises(errors.QuotaExceeded) as caught:
        make_client(max_wait_s=30).generate(req(model=PRO))
    assert time.monotonic() - t0 < 2 and len(fake.generate_requests) == 1
    assert str(caught.value).startswith("Quota reached for Nano Banana Pro. Try again in 40 s or switch to Nano Banana 2 Lite")
    assert caught.value.suggested_model == FLASH


@pytest.mark.parametrize("code, kind", [(500, errors.ServerBusy), (503, errors.ServerBusy), (504, errors.Timeout)])
def test_server_errors_are_retried_with_backoff(fake, make_client, code, kind):
    fake.script(R.server_error(code), R.image())
    assert make_client().generate(req()).images
    fake.reset()
    fake.script(*[R.server_error(code)] * 3)
    with pytest.raises(kind):
        make_client(attempts=3).generate(req())
    assert len(fake.generate_requests) == 3


def test_dropped_connections_are_retried_then_reported(fake, make_client):
    fake.script(R.reset(), R.image())
    assert make_client().generate(req()).images
    fake.reset()
    fake.script(R.reset(), R.truncated(), R.reset())
    with pytest.raises(errors.NetworkError, match="Could not reach Gemini"):
        make_client(attempts=3).generate(req())


def test_slow_answer_beyond_timeout_is_a_timeout(fake, make_client):
    fake.script(R.slow(3.0))
    t0 = time.monotonic()
    with pytest.raises(errors.Timeout, match="did not answer within 1 s"):
        make_client(timeout_s=1.0, attempts=1).generate(req())
    assert time.monotonic() - t0 < 2.5


def test_cancel_during_a_hang_returns_within_a_second(fake, make_client):
    fake.script(R.hang())
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(errors.Cancelled):
        make_client().generate(req(), cancel)
    assert time.monotonic() - t0 < 1.3


def test_cancel_during_a_retry_wait_returns_at_once(fake, make_client):
    fake.script(R.quota(retry_delay="4s"), R.image())
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(errors.Cancelled):
        make_client(max_wait_s=10).generate(req(), cancel)
    assert time.monotonic() - t0 < 1.0 and len(fake.generate_requests) == 1


def test_unreachable_endpoint_is_a_network_error(make_client):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(errors.NetworkError):
        make_client(base_url=f"http://127.0.0.1:{port}", attempts=2).generate(req())


def test_missing_key_and_env_fallback(fake, monkeypatch):
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(errors.MissingKey, match="No Gemini API key"):
        GeminiClient(ClientConfig(api_key="  "))
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    client = GeminiClient(ClientConfig())
    try:
        assert client.generate(req()).images
    finally:
        client.close()
    assert fake.generate_requests[0].headers["x-goog-api-key"] == KEY


def test_oversized_input_is_refused_before_sending(fake, make_client):
    big = InputImage(b"\x89PNG" + b"0" * 21_000_000, "image/png", "edit")
    with pytest.raises(errors.InputTooLarge):
        make_client().generate(req(images=[big]))
    assert fake.requests == []


def test_quota_on_the_cheapest_model_offers_no_switch(fake, make_client):
    fake.script(R.quota(retry_delay="40s"))
    with pytest.raises(errors.QuotaExceeded) as caught:
        make_client(max_wait_s=30).generate(req(model=FLASH))
    assert "Try again in 40 s" in str(caught.value) and "switch" not in str(caught.value)
    assert caught.value.fix is None and caught.value.suggested_model is None
