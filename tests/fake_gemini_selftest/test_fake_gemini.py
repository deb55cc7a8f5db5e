"""Self-test of tests/fake_gemini: talks to the fake over real sockets with the
standard library only (http.client), no google-genai."""
import base64
import http.client
import json
import socket
import struct
import threading
import time
import zlib

import pytest

from tests.fake_gemini import FakeGemini as _FakeGemini
from tests.fake_gemini import expected_pixel
from tests.fake_gemini import responses as R
from tests.fake_gemini.models import LIVE_IDS, MODELS


def FakeGemini(**kw):  # noqa: N802 - the class, serving its whole table (retired ids too)
    return _FakeGemini(live=list(MODELS), **kw)


FLASH, PRO, FLASH31 = "gemini-2.5-flash-image", "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview"


# ---------------------------------------------------------------- helpers

def png_decode(data):
    """Minimal independent decoder: 8-bit RGB, filter type 0 rows only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert (depth, ctype) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = 3 * w + 1
    assert len(raw) == stride * h
    rows = [raw[y * stride:(y + 1) * stride] for y in range(h)]
    assert all(r[0] == 0 for r in rows)
    return w, h, [r[1:] for r in rows]


def png_of_size(w, h):
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * w for _ in range(h))
    def chunk(k, d):
        return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def body_for(prompt="a red cube", aspect=None, size=None, images=(), modalities=("TEXT", "IMAGE")):
    parts = [{"text": prompt}] + [{"inlineData": {"mimeType": "image/png", "data": base64.b64encode(i).decode()}}
                                  for i in images]
    cfg = {"responseModalities": list(modalities)}
    ic = {}
    if aspect:
        ic["aspectRatio"] = aspect
    if size:
        ic["imageSize"] = size
    if ic:
        cfg["imageConfig"] = ic
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": cfg}


def call(fake, model=FLASH, body=None, key="test-key", version="v1beta", method="POST", path=None,
         action="generateContent", query="", headers=None, raw=None, timeout=10, conn=None):
    """Returns (status, headers, bytes, parsed-json-or-None)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(fake.host, fake.port, timeout=timeout)
    hdrs = {"Content-Type": "application/json"}
    if key is not None:
        hdrs["x-goog-api-key"] = key
    hdrs.update(headers or {})
    if path is None:
        path = "/%s/models/%s:%s%s" % (version, model, action, query)
    data = raw if raw is not None else (json.dumps(body if body is not None else body_for()).encode()
                                        if method == "POST" else None)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
    finally:
        if own:
            conn.close()
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    return resp.status, dict(resp.getheaders()), payload, parsed


def parts_of(js):
    return js["candidates"][0]["content"]["parts"]


def image_parts(js):
    return [p for p in parts_of(js) if "inlineData" in p and not p.get("thought")]


def fake_threads():
    return [t for t in threading.enumerate() if t.name.startswith("fake-gemini")]


# ---------------------------------------------------------------- success

def test_success_shape(fake_gemini):
    status, headers, _, js = call(fake_gemini)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    cand = js["candidates"][0]
    assert cand["finishReason"] == "STOP" and cand["index"] == 0 and cand["content"]["role"] == "model"
    parts = cand["content"]["parts"]
    assert parts[0]["thought"] is True and parts[0]["text"]
    assert parts[1] == {"text": "Here is your image."}
    img = parts[2]
    assert img["inlineData"]["mimeType"] == "image/png"
    assert img["thoughtSignature"] in fake_gemini.issued_signatures
    base64.b64decode(img["thoughtSignature"], validate=True)
    u = js["usageMetadata"]
    assert u["candidatesTokenCount"] >= 1290
    assert u["totalTokenCount"] == u["promptTokenCount"] + u["candidatesTokenCount"]
    assert js["modelVersion"] == FLASH and js["responseId"]


def test_png_pixels_match_expected_pixel(fake_gemini):
    fake_gemini.script(R.image(seed=7))
    _, _, _, js = call(fake_gemini, body=body_for(aspect="16:9"))
    w, h, rows = png_decode(base64.b64decode(image_parts(js)[0]["inlineData"]["data"]))
    assert (w, h) == (1344, 768)
    assert fake_gemini.requests[-1].seed == 7
    for x, y in [(0, 0), (1, 0), (0, 1), (100, 200), (671, 383), (w - 1, h - 1), (w // 2, h - 1)]:
        assert tuple(rows[y][3 * x:3 * x + 3]) == expected_pixel(7, x, y, w, h)
    assert len({tuple(rows[y][3 * x:3 * x + 3]) for x in range(0, w, 97) for y in range(0, h, 89)}) > 50


def test_default_seed_is_request_number_and_images_differ(fake_gemini):
    fake_gemini.image_scale = 1 / 16
    _, _, _, a = call(fake_gemini)
    _, _, _, b = call(fake_gemini)
    r1, r2 = fake_gemini.requests
    assert (r1.seed, r2.seed) == (1, 2)
    assert image_parts(a)[0]["inlineData"]["data"] != image_parts(b)[0]["inlineData"]["data"]
    assert r1.image_size == (64, 64)


@pytest.mark.parametrize("model,aspect,size,expect", [
    (FLASH, None, None, (1024, 1024)),
    (FLASH, "21:9", None, (1536, 672)),
    (FLASH, "9:16", None, (768, 1344)),
    (PRO, "16:9", "1K", (1376, 768)),
    (PRO, "16:9", "2K", (2752, 1536)),
    (PRO, "1:1", "4K", (4096, 4096)),
    (PRO, "2:3", None, (848, 1264)),
    (FLASH31, "1:4", "512", (256, 1024)),
    (FLASH31, "8:1", "2K", (6144, 768)),
])
def test_output_size_table(fake_gemini, model, aspect, size, expect):
    fake_gemini.image_scale = 0.125
    status, _, _, js = call(fake_gemini, model=model, body=body_for(aspect=aspect, size=size))
    assert status == 200, js
    w, h, _ = png_decode(base64.b64decode(image_parts(js)[0]["inlineData"]["data"]))
    assert (w, h) == (round(expect[0] / 8), round(expect[1] / 8))


def test_input_image_sets_aspect_when_none_given(fake_gemini):
    fake_gemini.image_scale = 0.25
    _, _, _, js = call(fake_gemini, body=body_for(images=[png_of_size(90, 160)]))
    assert fake_gemini.requests[-1].image_size == (192, 336)      # 9:16 -> 768x1344 / 4
    assert js["usageMetadata"]["promptTokensDetails"][-1]["modality"] == "IMAGE"


def test_explicit_size_count_thought_image_and_modalities(fake_gemini):
    fake_gemini.script(R.image(width=40, height=30, count=2, thought_image=True),
                       R.image(width=8, height=8))
    _, _, _, js = call(fake_gemini)
    imgs = image_parts(js)
    assert len(imgs) == 2 and len({p["thoughtSignature"] for p in imgs}) == 2
    assert any(p.get("thought") and "inlineData" in p for p in parts_of(js))
    assert [png_decode(base64.b64decode(p["inlineData"]["data"]))[:2] for p in imgs] == [(40, 30)] * 2
    assert fake_gemini.requests[-1].seeds == [1, 2]
    _, _, _, js = call(fake_gemini, body=body_for(modalities=["IMAGE"]))
    assert not [p for p in parts_of(js) if "text" in p and not p.get("thought")]


def test_pro_signs_first_text_part_and_reports_thoughts(fake_gemini):
    fake_gemini.image_scale = 0.0625
    _, _, _, js = call(fake_gemini, model=PRO)
    text = [p for p in parts_of(js) if "text" in p and not p.get("thought")][0]
    assert text["thoughtSignature"] in fake_gemini.issued_signatures
    assert js["usageMetadata"]["thoughtsTokenCount"] > 0
    assert js["usageMetadata"]["candidatesTokensDetails"][-1]["tokenCount"] == 1120


def test_text_only(fake_gemini):
    fake_gemini.script(R.text_only("Which side should face the camera?"))
    _, _, _, js = call(fake_gemini)
    assert parts_of(js) == [{"text": "Which side should face the camera?"}]
    assert js["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
                                    "IMAGE_OTHER", "NO_IMAGE", "SAFETY", "PROHIBITED_CONTENT",
                                    "RECITATION", "MAX_TOKENS", "OTHER"])
def test_finish_reasons(fake_gemini, reason):
    fake_gemini.script(R.finish(reason))
    status, _, _, js = call(fake_gemini)
    cand = js["candidates"][0]
    assert status == 200 and cand["finishReason"] == reason
    assert not any("inlineData" in p for p in cand.get("content", {}).get("parts", []))


def test_finish_with_text(fake_gemini):
    fake_gemini.script(R.finish("IMAGE_SAFETY", text="I can't make that."))
    _, _, _, js = call(fake_gemini)
    assert parts_of(js) == [{"text": "I can't make that."}]


def test_blocked(fake_gemini):
    fake_gemini.script(R.blocked("PROHIBITED_CONTENT"))
    status, _, _, js = call(fake_gemini)
    assert status == 200 and "candidates" not in js
    assert js["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"


# ---------------------------------------------------------------- auth / model / validation

def test_missing_key_is_403(fake_gemini):
    status, _, _, js = call(fake_gemini, key=None)
    assert status == 403 and js["error"]["status"] == "PERMISSION_DENIED"
    assert "unregistered callers" in js["error"]["message"]


def test_wrong_key_is_api_key_invalid(fake_gemini):
    status, _, _, js = call(fake_gemini, key="nope")
    err = js["error"]
    assert status == 400 and err["code"] == 400 and err["status"] == "INVALID_ARGUMENT"
    assert err["message"] == "API key not valid. Please pass a valid API key."
    info = [d for d in err["details"] if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"][0]
    assert info["reason"] == "API_KEY_INVALID" and info["metadata"]["service"] == "generativelanguage.googleapis.com"


def test_key_in_url_is_recorded(fake_gemini):
    status, _, _, _ = call(fake_gemini, key=None, query="?key=test-key&alt=json")
    assert status == 200
    assert fake_gemini.requests[-1].key_in_url is True
    call(fake_gemini)
    assert fake_gemini.requests[-1].key_in_url is False


def test_unknown_model_404(fake_gemini):
    status, _, _, js = call(fake_gemini, model="gemini-9-ultra-image")
    assert status == 404 and js["error"]["status"] == "NOT_FOUND"
    assert js["error"]["message"].startswith("models/gemini-9-ultra-image is not found for API version v1beta")


def test_extra_models_and_versions():
    with FakeGemini(extra_models=["my-future-image-model"], image_scale=0.05) as fake:
        for version in ("v1beta", "v1", "v1alpha"):
            status, _, _, _ = call(fake, model="my-future-image-model", version=version, query="?foo=bar")
            assert status == 200
        assert [r.api_version for r in fake.requests] == ["v1beta", "v1", "v1alpha"]
        status, _, _, _ = call(fake, path="/v1beta/nothing/here")
        assert status == 404


@pytest.mark.parametrize("model,aspect,size", [
    (FLASH, "7:3", None), (FLASH, "1:4", None), (FLASH, None, "1K"), (PRO, None, "2k"),
    (PRO, None, "512"), (PRO, "8:1", None), (FLASH31, None, "8K"),
])
def test_bad_image_config_400(fake_gemini, model, aspect, size):
    fake_gemini.script(R.quota())
    status, _, _, js = call(fake_gemini, model=model, body=body_for(aspect=aspect, size=size))
    assert status == 400 and js["error"]["status"] == "INVALID_ARGUMENT", js
    assert fake_gemini.pending == 1          # invalid requests do not consume the script


@pytest.mark.parametrize("body,needle", [
    ({}, "contents is not specified"),
    ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
    ({"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}, "valid role"),
    ({"contents": [{"parts": [{"text": "x"}]}, {"parts": [{"text": "y"}]}]}, "valid role"),
    ({"contents": [{"parts": [{"text": "x", "inlineData": {"mimeType": "image/png", "data": ""}}]}]}, "Oneof"),
    ({"contents": [{"parts": [{"thoughtSignature": "AAAA"}]}]}, "oneof"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "@@@"}}]}]}, "Base64"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/gif", "data": "R0lGODlh"}}]}]}, "MIME"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "aGVsbG8="}}]}]}, "input image"),
    ({"contents": [{"parts": [{"txt": "x"}]}]}, "Unknown name"),
])
def test_body_validation(fake_gemini, body, needle):
    status, _, _, js = call(fake_gemini, body=body)
    assert status == 400 and needle.lower() in js["error"]["message"].lower(), js
    assert fake_gemini.requests[-1].status == 400 and fake_gemini.requests[-1].error


def test_snake_case_and_urlsafe_base64_accepted(fake_gemini):
    img = base64.urlsafe_b64encode(png_of_size(10, 10)).decode().rstrip("=")
    body = {"contents": [{"parts": [{"text": "x"}, {"inline_data": {"mime_type": "image/png", "data": img}}]}],
            "generation_config": {"response_modalities": ["TEXT", "IMAGE"], "image_config": {"aspect_ratio": "1:1"}}}
    fake_gemini.image_scale = 0.01
    assert call(fake_gemini, body=body)[0] == 200


def test_invalid_json_and_payload_limit(fake_gemini):
    status, _, _, js = call(fake_gemini, raw=b"{not json")
    assert status == 400 and "Invalid JSON" in js["error"]["message"]
    big = body_for(prompt="x" * (20 * 1024 * 1024 + 10))
    status, _, _, js = call(fake_gemini, body=big)
    assert status == 400 and "payload size exceeds the limit" in js["error"]["message"]


def test_thought_signature_enforced_on_thinking_models(fake_gemini):
    fake_gemini.image_scale = 0.03
    _, _, _, first = call(fake_gemini, model=PRO)
    model_turn = first["candidates"][0]["content"]
    history = [body_for()["contents"][0], model_turn, {"role": "user", "parts": [{"text": "make it blue"}]}]
    status, _, _, js = call(fake_gemini, model=PRO, body={"contents": history})
    assert status == 200, js
    stripped = json.loads(json.dumps(model_turn))
    for p in stripped["parts"]:
        p.pop("thoughtSignature", None)
    status, _, _, js = call(fake_gemini, model=PRO, body={"contents": [history[0], stripped, history[2]]})
    assert status == 400 and js["error"]["status"] == "INVALID_ARGUMENT"
    assert "thought_signature" in js["error"]["message"] and "content position 2" in js["error"]["message"]
    forged = json.loads(json.dumps(model_turn))
    for p in forged["parts"]:
        if "inlineData" in p:
            p["thoughtSignature"] = base64.b64encode(b"forged" * 8).decode()
    status, _, _, js = call(fake_gemini, model=PRO, body={"contents": [history[0], forged, history[2]]})
    assert status == 400 and "thought signature" in js["error"]["message"].lower()
    # Non-thinking model: no enforcement.
    status, _, _, _ = call(fake_gemini, model=FLASH, body={"contents": [history[0], stripped, history[2]]})
    assert status == 200


# ---------------------------------------------------------------- error builders

@pytest.mark.parametrize("behaviour,code,status", [
    (R.api_key_invalid(), 400, "INVALID_ARGUMENT"),
    (R.permission_denied(), 403, "PERMISSION_DENIED"),
    (R.not_found("gemini-old"), 404, "NOT_FOUND"),
    (R.not_found(), 404, "NOT_FOUND"),
    (R.quota(retry_delay="1s"), 429, "RESOURCE_EXHAUSTED"),
    (R.quota(retry_delay=None), 429, "RESOURCE_EXHAUSTED"),
    (R.server_error(500), 500, "INTERNAL"),
    (R.server_error(503), 503, "UNAVAILABLE"),
    (R.server_error(504), 504, "DEADLINE_EXCEEDED"),
    (R.location_unsupported(), 400, "FAILED_PRECONDITION"),
    (R.error(418, "UNKNOWN", "teapot", details=[{"@type": "x"}]), 418, "UNKNOWN"),
])
def test_error_builders(fake_gemini, behaviour, code, status):
    fake_gemini.script(behaviour)
    got, headers, _, js = call(fake_gemini)
    assert got == code and headers["Content-Type"].startswith("application/json")
    assert js["error"]["code"] == code and js["error"]["status"] == status and js["error"]["message"]
    assert fake_gemini.requests[-1].status == code and fake_gemini.requests[-1].response == js


def test_quota_details(fake_gemini):
    fake_gemini.script(R.quota(retry_delay="40s"))
    _, _, _, js = call(fake_gemini)
    types = {d["@type"]: d for d in js["error"]["details"]}
    assert types["type.googleapis.com/google.rpc.RetryInfo"]["retryDelay"] == "40s"
    viol = types["type.googleapis.com/google.rpc.QuotaFailure"]["violations"][0]
    assert viol["quotaDimensions"]["model"] == FLASH
    fake_gemini.script(R.not_found())
    _, _, _, js = call(fake_gemini)
    assert js["error"]["message"].startswith("models/%s is not found" % FLASH)


def test_script_order_then_default(fake_gemini):
    fake_gemini.image_scale = 0.01
    fake_gemini.script(R.server_error(503), [R.quota("1s"), R.blocked()])
    assert [call(fake_gemini)[0] for _ in range(4)] == [503, 429, 200, 200]
    assert [r.behaviour for r in fake_gemini.requests] == ["error:503 UNAVAILABLE", "error:429 RESOURCE_EXHAUSTED",
                                                          "blocked:SAFETY", "image"]


# ---------------------------------------------------------------- transport behaviours

def test_slow_and_latency(fake_gemini):
    fake_gemini.image_scale = 0.01
    fake_gemini.script(R.slow(0.4))
    t = time.monotonic()
    assert call(fake_gemini)[0] == 200
    assert time.monotonic() - t >= 0.4
    fake_gemini.latency = 0.3
    t = time.monotonic()
    assert call(fake_gemini, key="bad")[0] == 400
    assert time.monotonic() - t >= 0.3


def test_hang_then_close_is_fast():
    fake = FakeGemini()
    fake.script(R.hang())
    errors = []

    def client():
        try:
            call(fake, timeout=30)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    t = threading.Thread(target=client)
    t.start()
    assert fake.wait_for_requests(1, timeout=5)
    time.sleep(0.2)
    start = time.monotonic()
    fake.close()
    assert time.monotonic() - start < 1.0
    t.join(5)
    assert not t.is_alive() and errors
    assert fake.requests[0].status is None
    assert not fake_threads()
    fake.close()  # idempotent


def test_hang_ends_when_client_disconnects(fake_gemini):
    fake_gemini.script(R.hang())
    with pytest.raises((socket.timeout, TimeoutError)):
        call(fake_gemini, timeout=0.3)
    rec = fake_gemini.requests[0]
    assert rec.answered.wait(2)          # the handler noticed the disconnect
    fake_gemini.image_scale = 0.01
    assert call(fake_gemini)[0] == 200


def test_trickle_sends_headers_then_the_body_slowly(fake_gemini):
    fake_gemini.script(R.trickle(bytes_per_second=40, then=R.text_only("tileable?")))
    conn = http.client.HTTPConnection(fake_gemini.host, fake_gemini.port, timeout=2)
    t0 = time.monotonic()
    conn.request("POST", "/v1beta/models/%s:generateContent" % FLASH, json.dumps(body_for()),
                 {"x-goog-api-key": "test-key", "Content-Type": "application/json"})
    resp = conn.getresponse()                  # the headers come at once
    assert resp.status == 200 and time.monotonic() - t0 < 1.0
    length = int(resp.getheader("Content-Length"))
    first = resp.read(20)
    assert len(first) == 20 and time.monotonic() - t0 >= 0.4      # 40 bytes a second
    conn.close()
    rec = fake_gemini.requests[0]
    assert rec.answered.wait(2) and rec.behaviour == "trickle"   # it noticed the client left
    assert length > 20
    fast = R.trickle(bytes_per_second=1e6, chunk=4096, then=R.text_only("done"))
    fake_gemini.script(fast)
    status, _, _, js = call(fake_gemini)
    assert status == 200 and parts_of(js)[0]["text"] == "done"


def test_reset(fake_gemini):
    fake_gemini.script(R.reset())
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)) as exc:
        call(fake_gemini)
    assert isinstance(exc.value, ConnectionResetError)
    assert fake_gemini.requests[0].status is None


def test_truncated(fake_gemini):
    fake_gemini.script(R.truncated())
    with pytest.raises(http.client.IncompleteRead):
        call(fake_gemini)
    assert fake_gemini.requests[0].status == 200


def test_not_json(fake_gemini):
    fake_gemini.script(R.not_json())
    status, headers, payload, js = call(fake_gemini)
    assert status == 200 and js is None and headers["Content-Type"].startswith("text/html")
    assert payload.startswith(b"<!DOCTYPE html>")


def test_bad_base64_and_garbage_image(fake_gemini):
    fake_gemini.script(R.bad_base64(), R.garbage_image())
    _, _, _, js = call(fake_gemini)
    with pytest.raises(Exception):
        base64.b64decode(image_parts(js)[0]["inlineData"]["data"], validate=True)
    _, _, _, js = call(fake_gemini)
    blob = image_parts(js)[0]["inlineData"]
    data = base64.b64decode(blob["data"], validate=True)
    assert blob["mimeType"] == "image/png" and data and not data.startswith(b"\x89PNG")


def test_custom(fake_gemini):
    fake_gemini.script(R.custom(200, {"candidates": []}), R.custom(502, b"oops", "text/plain"))
    assert call(fake_gemini)[3] == {"candidates": []}
    assert call(fake_gemini)[:1] == (502,)


def test_stream_endpoint_sse(fake_gemini):
    fake_gemini.image_scale = 0.01
    status, headers, payload, _ = call(fake_gemini, action="streamGenerateContent", query="?alt=sse")
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    assert payload.startswith(b"data: ") and payload.endswith(b"\r\n\r\n")
    assert json.loads(payload[6:])["candidates"][0]["finishReason"] == "STOP"


def test_models_get_and_list(fake_gemini):
    status, _, _, js = call(fake_gemini, method="GET", path="/v1beta/models/" + PRO)
    assert status == 200 and js["name"] == "models/" + PRO
    status, _, _, js = call(fake_gemini, method="GET", path="/v1beta/models?pageSize=50")
    assert status == 200 and {m["name"] for m in js["models"]} >= {"models/" + FLASH, "models/" + FLASH31}


def test_retired_ids_answer_404_by_default_and_only_live_ids_are_listed():
    with _FakeGemini(api_key="test-key") as fake:
        for retired in (FLASH, PRO, FLASH31, "gemini-3.1-flash-image"):
            status, _, _, js = call(fake, model=retired)
            assert status == 404 and js["error"]["status"] == "NOT_FOUND"
            assert js["error"]["message"].startswith("models/%s is not found" % retired)
        status, _, _, js = call(fake, method="GET", path="/v1beta/models")
        assert [m["name"] for m in js["models"]] == ["models/" + i for i in LIVE_IDS]
        assert all("generateContent" in m["supportedGenerationMethods"] for m in js["models"])
    with _FakeGemini(api_key="test-key", live=["gemini-9-image"]) as fake:
        assert call(fake, model="gemini-9-image", body=body_for(aspect="8:1"))[0] == 200
        assert call(fake, model=LIVE_IDS[0])[0] == 404


def test_models_list_pages_like_google(fake_gemini):
    names, token, pages = [], "", 0
    while True:
        q = "?pageSize=3" + ("&pageToken=" + token if token else "")
        status, _, _, js = call(fake_gemini, method="GET", path="/v1beta/models" + q)
        assert status == 200 and len(js["models"]) <= 3
        names += [m["name"] for m in js["models"]]
        pages += 1
        token = js.get("nextPageToken", "")
        if not token:
            break
    assert pages == 3 and names == ["models/" + i for i in MODELS]


@pytest.mark.parametrize("model, thinking, ok", [
    ("gemini-nano-banana-2.1", {"thinkingLevel": "MINIMAL"}, True),
    ("gemini-nano-banana-2.1", {"thinkingLevel": "HIGH"}, True),
    ("gemini-3-pro-image", {"thinkingLevel": "HIGH"}, False),         # Pro takes no level
    ("gemini-nano-banana-2.1", {"thinkingLevel": "HIGH", "thinkingBudget": 100}, False),
])
def test_thinking_level_only_where_the_model_takes_one(fake_gemini, model, thinking, ok):
    fake_gemini.image_scale = 0.01
    body = body_for()
    body["generationConfig"]["thinkingConfig"] = thinking
    status, _, _, js = call(fake_gemini, model=model, body=body)
    assert (status == 200) == ok, js


def test_deprecated_sampling_parameters_are_rejected(fake_gemini):
    body = body_for()
    body["generationConfig"]["temperature"] = 0.7
    status, _, _, js = call(fake_gemini, body=body)
    assert status == 400 and "temperature" in js["error"]["message"]


# ---------------------------------------------------------------- recording / lifecycle

def test_request_recording(fake_gemini):
    fake_gemini.image_scale = 0.01
    body = body_for(prompt="record me")
    call(fake_gemini, body=body, headers={"X-Custom": "yes"})
    call(fake_gemini, key="wrong")
    assert fake_gemini.wait_for_requests(2, timeout=1)
    assert not fake_gemini.wait_for_requests(3, timeout=0.05)
    ok, bad = fake_gemini.requests
    assert ok.method == "POST" and ok.path == "/v1beta/models/%s:generateContent" % FLASH
    assert ok.model == FLASH and ok.headers["x-custom"] == "yes" and ok.headers["x-goog-api-key"] == "test-key"
    assert ok.body == body and json.loads(ok.raw) == body
    assert ok.status == 200 and ok.response["candidates"] and ok.answered.is_set()
    assert bad.status == 400 and bad.response["error"]["status"] == "INVALID_ARGUMENT" and bad.body == body_for()
    assert fake_gemini.generate_requests == [ok, bad]
    fake_gemini.script(R.quota())
    fake_gemini.reset()
    assert fake_gemini.requests == [] and fake_gemini.pending == 0


def test_keep_alive_reuses_connection(fake_gemini):
    fake_gemini.image_scale = 0.01
    conn = http.client.HTTPConnection(fake_gemini.host, fake_gemini.port, timeout=5)
    try:
        call(fake_gemini, conn=conn)
        sock = conn.sock
        fake_gemini.script(R.quota())
        assert call(fake_gemini, conn=conn)[0] == 429
        assert call(fake_gemini, conn=conn)[0] == 200
        assert conn.sock is sock
    finally:
        conn.close()


def test_close_leaves_no_threads_or_sockets():
    before = set(threading.enumerate())
    fake = FakeGemini(image_scale=0.01)
    idle = http.client.HTTPConnection(fake.host, fake.port, timeout=5)
    call(fake, conn=idle)                    # keep-alive connection left open
    fake.script(R.slow(30))
    t = threading.Thread(target=lambda: pytest.raises(Exception, call, fake, timeout=30))
    t.start()
    assert fake.wait_for_requests(2)
    start = time.monotonic()
    fake.close()
    assert time.monotonic() - start < 1.0
    t.join(5)
    idle.close()
    assert not fake_threads()
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(OSError):
        socket.create_connection((fake.host, fake.port), timeout=1).close()


def test_context_manager():
    with FakeGemini(api_key="k2", image_scale=0.01) as fake:
        assert fake.url.startswith("http://127.0.0.1:")
        assert call(fake, key="k2")[0] == 200
    assert not fake_threads()


def test_expected_pixel_is_not_uniform():
    vals = {expected_pixel(3, x, y, 64, 48) for x in range(64) for y in range(48)}
    assert len(vals) > 500
    assert expected_pixel(3, 5, 5, 64, 48) != expected_pixel(4, 5, 5, 64, 48)


def test_jpeg_is_rejected_at_build_time():
    with pytest.raises(ValueError):
        R.image(mime="image/jpeg")


def test_issued_signatures_match_any_base64_alphabet(fake_gemini):
    fake_gemini.image_scale = 0.01
    for _ in range(3):
        call(fake_gemini)
    sigs = fake_gemini.issued_signatures
    assert len(sigs) == 3
    for sig in sigs:
        raw = base64.b64decode(sig)
        assert base64.urlsafe_b64encode(raw).decode() in sigs            # how the SDK sends it back
        assert base64.urlsafe_b64encode(raw).decode().rstrip("=") in sigs
    assert base64.b64encode(b"never issued").decode() not in sigs
    assert "not base64 at all!" not in sigs
