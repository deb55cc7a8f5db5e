"""Behaviour builders for the fake Gemini server (what one generateContent
request is answered with) and the deterministic test-image pattern.

Each builder returns a ``Behaviour``; the server calls ``behaviour.respond(ctx)``
after the request passed validation. ``ctx`` (see server.py ``_Ctx``) offers:
model, spec, api_version, info (validate.RequestInfo), number, image_scale,
record, issue_signature(), response_id(), send_json(status, obj),
send_raw(status, content_type, body, content_length=None, close=False),
wait(seconds) -> bool, reset_connection(), drop_connection(), and for slow bodies
render(behaviour) -> (status, content_type, body), send_head(status, content_type,
length), send_part(bytes) -> bool.

JSON shapes follow Google's REST reference for GenerateContentResponse
(camelCase) and google.rpc.Status errors.
"""
from __future__ import annotations

import base64
import json

from .models import nearest_ratio, output_size, tokens_for
from .pngenc import encode_png_rows

# --------------------------------------------------------------------------
# Deterministic pixel pattern
# --------------------------------------------------------------------------

def _tile(width: int, height: int) -> int:
    return max(1, min(width, height) // 8)


def expected_pixel(seed: int, x: int, y: int, width: int, height: int) -> tuple:
    """(r, g, b) of pixel (x, y) (origin top-left, as stored in the PNG) of
    the image the fake returns for ``seed`` at width x height: a red
    gradient along x, a green gradient along y, both shifted by the seed, and
    a blue checkerboard of 8 tiles on the short side whose phase is the seed."""
    r = (x * 255 // max(width - 1, 1) + seed * 37) % 256
    g = (y * 255 // max(height - 1, 1) + seed * 91) % 256
    t = _tile(width, height)
    b = 224 if ((x // t) + (y // t) + seed) % 2 == 0 else 32
    return r, g, b


def pattern_rows(seed: int, width: int, height: int):
    """Yield the RGB rows of the pattern (fast: two row templates, then the
    green channel is filled per row with one strided slice assignment)."""
    t = _tile(width, height)
    reds = bytes((x * 255 // max(width - 1, 1) + seed * 37) % 256 for x in range(width))
    templates = []
    for parity in (0, 1):
        row = bytearray(3 * width)
        row[0::3] = reds
        row[2::3] = bytes(224 if ((x // t) + parity + seed) % 2 == 0 else 32 for x in range(width))
        templates.append(bytes(row))
    for y in range(height):
        row = bytearray(templates[(y // t) % 2])
        row[1::3] = bytes((((y * 255 // max(height - 1, 1)) + seed * 91) % 256,)) * width
        yield bytes(row)


def pattern_png(seed: int, width: int, height: int) -> bytes:
    """PNG bytes of the pattern (8-bit RGB)."""
    return encode_png_rows(width, height, pattern_rows(seed, width, height))


# --------------------------------------------------------------------------
# Behaviours
# --------------------------------------------------------------------------

THOUGHT_TEXT = ("**Planning the image**\n\nI'm working out the composition, lighting and "
                "materials the request asks for before rendering the final image.")
TROUBLESHOOT = "https://developers.generativeai.google/guide/troubleshooting"


def _usage(ctx, candidate_tokens: int = 0, candidate_details=None, thoughts: bool = True) -> dict:
    info = ctx.info
    prompt = info.prompt_text_tokens + info.prompt_image_tokens
    usage = {"promptTokenCount": prompt}
    if candidate_tokens:
        usage["candidatesTokenCount"] = candidate_tokens
    thoughts_tokens = ctx.spec.thoughts_tokens if (ctx.spec.thinking and thoughts) else 0
    usage["totalTokenCount"] = prompt + candidate_tokens + thoughts_tokens
    details = [{"modality": "TEXT", "tokenCount": info.prompt_text_tokens}]
    if info.prompt_image_tokens:
        details.append({"modality": "IMAGE", "tokenCount": info.prompt_image_tokens})
    usage["promptTokensDetails"] = details
    if candidate_details:
        usage["candidatesTokensDetails"] = candidate_details
    if thoughts_tokens:
        usage["thoughtsTokenCount"] = thoughts_tokens
    return usage


def _envelope(ctx, body: dict) -> dict:
    body["modelVersion"] = ctx.model
    body["responseId"] = ctx.response_id()
    return body


def _text_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


class Behaviour:
    """Base class: one scripted answer."""
    name = "behaviour"

    def respond(self, ctx) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self.name)


class Image(Behaviour):
    name = "image"

    def __init__(self, width=None, height=None, text="Here is your image.", thoughts=True,
                 signature=True, mime="image/png", count=1, seed=None, thought_image=False):
        if mime != "image/png":
            raise ValueError("the fake only encodes image/png (stdlib); got %r" % mime)
        self.width, self.height, self.text = width, height, text
        self.thoughts, self.signature, self.mime = thoughts, signature, mime
        self.count, self.seed, self.thought_image = count, seed, thought_image

    def _size(self, ctx) -> tuple:
        info = ctx.info
        if info.aspect_ratio:
            aspect = info.aspect_ratio
        elif info.input_dims:
            aspect = nearest_ratio(ctx.spec, *info.input_dims)
        else:
            aspect = "1:1"
        tw, th = output_size(ctx.spec, aspect, info.image_size)
        w, h = self.width, self.height
        if w is None and h is None:
            w, h = tw, th
        elif w is None:
            w = max(1, round(h * tw / th))
        elif h is None:
            h = max(1, round(w * th / tw))
        else:
            return int(w), int(h)      # explicit size: not scaled
        s = ctx.image_scale
        return max(1, round(w * s)), max(1, round(h * s))

    def _encode(self, seed: int, w: int, h: int) -> tuple:
        return self.mime, base64.b64encode(pattern_png(seed, w, h)).decode("ascii")

    def respond(self, ctx) -> None:
        info = ctx.info
        w, h = self._size(ctx)
        seed0 = ctx.number if self.seed is None else int(self.seed)
        want_text = "TEXT" in info.modalities
        want_image = "IMAGE" in info.modalities
        parts = []
        if self.thoughts:
            parts.append({"text": THOUGHT_TEXT, "thought": True})
        if self.thought_image and want_image:
            tw, th = max(1, w // 4), max(1, h // 4)
            parts.append({"inlineData": {"mimeType": "image/png",
                                         "data": base64.b64encode(pattern_png(seed0 + 1000, tw, th)).decode("ascii")},
                          "thought": True})
        if self.text and want_text:
            part = {"text": self.text}
            if self.signature and ctx.spec.thinking:
                # Gemini 3: the first part after the thoughts carries a signature.
                part["thoughtSignature"] = ctx.issue_signature()
            parts.append(part)
        seeds = []
        if want_image:
            for i in range(int(self.count)):
                mime, data = self._encode(seed0 + i, w, h)
                part = {"inlineData": {"mimeType": mime, "data": data}}
                if self.signature:
                    part["thoughtSignature"] = ctx.issue_signature()
                parts.append(part)
                seeds.append(seed0 + i)
        ctx.record.seed = seed0 if seeds else None
        ctx.record.seeds = seeds
        ctx.record.image_size = (w, h) if seeds else None
        img_tokens = tokens_for(ctx.spec, info.image_size) * len(seeds)
        txt_tokens = _text_tokens(self.text) if (self.text and want_text) else 0
        cdetails = []
        if txt_tokens:
            cdetails.append({"modality": "TEXT", "tokenCount": txt_tokens})
        if img_tokens:
            cdetails.append({"modality": "IMAGE", "tokenCount": img_tokens})
        body = {"candidates": [{"content": {"parts": parts, "role": "model"},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": _usage(ctx, img_tokens + txt_tokens, cdetails)}
        ctx.send_json(200, _envelope(ctx, body))


class BadBase64(Image):
    name = "bad_base64"

    def _encode(self, seed, w, h):
        return "image/png", "%%% this is not base64 !!! @@@"


class GarbageImage(Image):
    name = "garbage_image"

    def _encode(self, seed, w, h):
        return "image/png", base64.b64encode(b"GARBAGE-NOT-AN-IMAGE-" * 64).decode("ascii")


class TextOnly(Behaviour):
    name = "text_only"

    def __init__(self, text, signature=False):
        self.text, self.signature = text, signature

    def respond(self, ctx):
        part = {"text": self.text}
        if self.signature:
            part["thoughtSignature"] = ctx.issue_signature()
        n = _text_tokens(self.text)
        body = {"candidates": [{"content": {"parts": [part], "role": "model"},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": _usage(ctx, n, [{"modality": "TEXT", "tokenCount": n}])}
        ctx.send_json(200, _envelope(ctx, body))


_SAFETY_RATINGS_BLOCKED = [
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]
_FINISH_MESSAGES = {
    "IMAGE_SAFETY": "Unable to show the generated image. The image was filtered out because it "
                    "violated Google's Generative AI Prohibited Use policy. You will not be charged "
                    "for blocked images. Try rephrasing the prompt.",
    "IMAGE_PROHIBITED_CONTENT": "Unable to show the generated image. The image was filtered out "
                                "because it contained prohibited content.",
    "IMAGE_RECITATION": "Unable to show the generated image. The image was filtered out because "
                        "it may resemble existing content.",
    "IMAGE_OTHER": "Unable to show the generated image.",
    "NO_IMAGE": "The model did not generate an image.",
}


class Finish(Behaviour):
    """A candidate that ends without an image."""

    def __init__(self, reason, text=None):
        self.reason, self.text = reason, text
        self.name = "finish:%s" % reason

    def respond(self, ctx):
        cand = {}
        if self.text is not None:
            cand["content"] = {"parts": [{"text": self.text}], "role": "model"}
        elif self.reason == "MAX_TOKENS":
            cand["content"] = {"role": "model"}
        cand["finishReason"] = self.reason
        if self.reason in _FINISH_MESSAGES:
            cand["finishMessage"] = _FINISH_MESSAGES[self.reason]
        cand["index"] = 0
        if self.reason == "SAFETY":
            cand["safetyRatings"] = _SAFETY_RATINGS_BLOCKED
        n = _text_tokens(self.text or "")
        body = {"candidates": [cand],
                "usageMetadata": _usage(ctx, n, [{"modality": "TEXT", "tokenCount": n}] if n else None)}
        ctx.send_json(200, _envelope(ctx, body))


class Blocked(Behaviour):
    """Prompt blocked up front: no candidates, promptFeedback.blockReason."""

    def __init__(self, reason="SAFETY"):
        self.reason = reason
        self.name = "blocked:%s" % reason

    def respond(self, ctx):
        feedback = {"blockReason": self.reason}
        if self.reason == "SAFETY":
            feedback["safetyRatings"] = _SAFETY_RATINGS_BLOCKED
        body = {"promptFeedback": feedback, "usageMetadata": _usage(ctx, thoughts=False)}
        ctx.send_json(200, _envelope(ctx, body))


class Error(Behaviour):
    """A google.rpc.Status error answer. ``message`` may contain {model} and
    {version}, filled from the request."""

    def __init__(self, http_status, status, message, details=None):
        self.http_status, self.status, self.message = int(http_status), status, message
        self.details = details
        self.name = "error:%d %s" % (self.http_status, status)

    def body(self, model="", version="v1beta") -> dict:
        err = {"code": self.http_status,
               "message": self.message.replace("{model}", model).replace("{version}", version),
               "status": self.status}
        if self.details is not None:
            err["details"] = json.loads(json.dumps(self.details).replace("{model}", model))
        return {"error": err}

    def respond(self, ctx):
        ctx.send_json(self.http_status, self.body(ctx.model or "", ctx.api_version or "v1beta"))


class Slow(Behaviour):
    name = "slow"

    def __init__(self, seconds, then=None):
        self.seconds, self.then = float(seconds), then if then is not None else Image()

    def respond(self, ctx):
        if ctx.wait(self.seconds):
            self.then.respond(ctx)
        else:
            ctx.drop_connection()


class Trickle(Behaviour):
    """Valid HTTP: the status line and headers at once (Content-Length of the whole
    answer), then the body of ``then`` (default: an image) at ``bytes_per_second``,
    ``chunk`` bytes at a time. Stops when the client goes away or the fake closes.
    A per-read socket timeout never fires: a byte arrives before it."""
    name = "trickle"

    def __init__(self, bytes_per_second=1.0, then=None, chunk=1):
        self.rate, self.chunk = float(bytes_per_second), max(1, int(chunk))
        self.then = then if then is not None else Image()

    def respond(self, ctx):
        status, content_type, body = ctx.render(self.then)
        if not ctx.send_head(status, content_type, len(body)):
            return
        pause = self.chunk / self.rate
        for start in range(0, len(body), self.chunk):
            if not ctx.send_part(body[start:start + self.chunk]):
                break
            if start + self.chunk < len(body) and not ctx.wait(pause):
                break
        else:
            ctx.record.answered.set()
            return
        ctx.drop_connection()


class Hang(Behaviour):
    name = "hang"

    def respond(self, ctx):
        ctx.wait(None)
        ctx.drop_connection()


class Reset(Behaviour):
    name = "reset"

    def respond(self, ctx):
        ctx.reset_connection()


class Truncated(Behaviour):
    name = "truncated"

    def respond(self, ctx):
        partial = (b'{\n  "candidates": [\n    {\n      "content": {\n        "parts": [\n'
                   b'          {\n            "inlineData": {\n              "mimeType": "image/png",\n'
                   b'              "data": "iVBORw0KGgoAAAANSUhEUgAA')
        ctx.send_raw(200, "application/json; charset=UTF-8", partial,
                     content_length=len(partial) + 4096, close=True)


class NotJson(Behaviour):
    name = "not_json"

    def respond(self, ctx):
        html = (b"<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 502 (Server Error)"
                b"</title><p><b>502.</b> <ins>That's an error.</ins><p>The server encountered a "
                b"temporary error and could not complete your request.<p>Please try again in 30 "
                b"seconds. <ins>That's all we know.</ins></html>")
        ctx.send_raw(200, "text/html; charset=UTF-8", html)


class Custom(Behaviour):
    """Escape hatch: answer ``status`` with ``payload`` (dict/list -> JSON, bytes as is)."""
    name = "custom"

    def __init__(self, status, payload, content_type=None):
        self.status, self.payload, self.content_type = int(status), payload, content_type

    def respond(self, ctx):
        if isinstance(self.payload, (bytes, bytearray)):
            ctx.send_raw(self.status, self.content_type or "application/octet-stream", bytes(self.payload))
        else:
            ctx.send_json(self.status, self.payload)


# --------------------------------------------------------------------------
# Builders (public API)
# --------------------------------------------------------------------------

def image(width=None, height=None, text="Here is your image.", thoughts=True, signature=True,
          mime="image/png", count=1, seed=None, thought_image=False) -> Image:
    """Success with ``count`` PNG image parts (pattern = expected_pixel(seed...)).
    Size defaults from the model's table for the request's aspectRatio/imageSize
    (no aspectRatio: the first input image's nearest ratio, else 1:1) times
    FakeGemini.image_scale; explicit width/height are used as given."""
    return Image(width, height, text, thoughts, signature, mime, count, seed, thought_image)


def text_only(text, signature=False) -> TextOnly:
    return TextOnly(text, signature)


def finish(reason, text=None) -> Finish:
    return Finish(reason, text)


def blocked(reason="SAFETY") -> Blocked:
    return Blocked(reason)


def error(http_status, status, message, details=None) -> Error:
    return Error(http_status, status, message, details)


def api_key_invalid() -> Error:
    msg = "API key not valid. Please pass a valid API key."
    return Error(400, "INVALID_ARGUMENT", msg, [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
         "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg},
    ])


def unregistered_caller() -> Error:
    """What Google answers when no API key is sent at all."""
    return Error(403, "PERMISSION_DENIED",
                 "Method doesn't allow unregistered callers (callers without established identity). "
                 "Please use API Key or other form of API consumer identity to call this API.")


def permission_denied(message="The caller does not have permission") -> Error:
    return Error(403, "PERMISSION_DENIED", message)


def location_unsupported() -> Error:
    return Error(400, "FAILED_PRECONDITION", "User location is not supported for the API use.")


def not_found(model=None) -> Error:
    name = model if model is not None else "{model}"
    return Error(404, "NOT_FOUND",
                 "models/%s is not found for API version {version}, or is not supported for "
                 "generateContent. Call ListModels to see the list of available models and their "
                 "supported methods." % name)


def invalid_argument(message) -> Error:
    return Error(400, "INVALID_ARGUMENT", message)


def quota(retry_delay="40s") -> Error:
    details = [
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                         "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                         "quotaDimensions": {"location": "global", "model": "{model}"},
                         "quotaValue": "10"}]},
    ]
    msg = ("You exceeded your current quota, please check your plan and billing details. For more "
           "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. "
           "To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n"
           "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
           "limit: 10, model: {model}")
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        msg += "\nPlease retry in %s." % retry_delay
    return Error(429, "RESOURCE_EXHAUSTED", msg, details)


_SERVER_ERRORS = {
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in %s" % TROUBLESHOOT),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


def server_error(code=503) -> Error:
    status, msg = _SERVER_ERRORS.get(int(code), ("UNKNOWN", "Unknown error."))
    return Error(int(code), status, msg)


def slow(seconds, then=None) -> Slow:
    return Slow(seconds, then)


def trickle(bytes_per_second=1.0, then=None, chunk=1) -> Trickle:
    """Headers at once, then the body of ``then`` (default R.image()) slowly."""
    return Trickle(bytes_per_second, then, chunk)


def hang() -> Hang:
    return Hang()


def reset() -> Reset:
    return Reset()


def truncated() -> Truncated:
    return Truncated()


def not_json() -> NotJson:
    return NotJson()


def bad_base64(**kw) -> BadBase64:
    return BadBase64(**kw)


def garbage_image(**kw) -> GarbageImage:
    return GarbageImage(**kw)


def custom(status, payload, content_type=None) -> Custom:
    return Custom(status, payload, content_type)
