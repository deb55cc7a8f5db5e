"""Every way a generation can fail, as a typed error carrying the words users read.

One place, one voice: each message says what happened and what to do. `fix` names an
action the UI can offer as a button (open preferences, enable online access, switch
model). `classify()` turns google-genai / httpx exceptions into these kinds; it never
lets an API key through (`redact`).
"""
from __future__ import annotations

import re
from typing import Any

from . import models

# Actions the Blender layer can offer as a button next to the message.
FIX_PREFERENCES = "OPEN_PREFERENCES"
FIX_ONLINE = "ENABLE_ONLINE_ACCESS"
FIX_SWITCH_MODEL = "SWITCH_MODEL"


class NanoBananaError(Exception):
    """Base: `str(err)` is the complete user message."""

    kind = "error"
    retryable = False
    fix: str | None = None

    def __init__(self, message: str, *, fix: str | None = None, detail: str = "",
                 retry_after: float | None = None, model_text: str = "",
                 suggested_model: str | None = None):
        super().__init__(message)
        if fix is not None:
            self.fix = fix
        self.detail = detail
        self.retry_after = retry_after
        self.model_text = model_text
        self.suggested_model = suggested_model

    @property
    def message(self) -> str:
        return str(self)


class MissingKey(NanoBananaError):
    kind = "missing_key"
    fix = FIX_PREFERENCES


class InvalidKey(NanoBananaError):
    kind = "invalid_key"
    fix = FIX_PREFERENCES


class PermissionDenied(NanoBananaError):
    kind = "permission"
    fix = FIX_PREFERENCES


class ModelNotFound(NanoBananaError):
    kind = "model_not_found"
    fix: str | None = FIX_SWITCH_MODEL


class QuotaExceeded(NanoBananaError):
    kind = "quota"
    retryable = True
    fix: str | None = FIX_SWITCH_MODEL


class ServerBusy(NanoBananaError):
    kind = "server_busy"
    retryable = True


class Timeout(NanoBananaError):
    kind = "timeout"


class NetworkError(NanoBananaError):
    kind = "network"
    retryable = True


class OnlineAccessDisabled(NanoBananaError):
    kind = "offline"
    fix = FIX_ONLINE


class PromptBlocked(NanoBananaError):
    kind = "prompt_blocked"


class ImageRefused(NanoBananaError):
    kind = "image_refused"


class TextOnly(NanoBananaError):
    kind = "text_only"


class MalformedResponse(NanoBananaError):
    kind = "malformed"


class InputTooLarge(NanoBananaError):
    kind = "input_too_large"


class BadRequest(NanoBananaError):
    kind = "bad_request"


class InvalidInput(NanoBananaError):
    kind = "invalid_input"


class Cancelled(NanoBananaError):
    kind = "cancelled"


# ---------------------------------------------------------------- messages
def missing_key() -> MissingKey:
    return MissingKey("No Gemini API key. Paste one in Preferences > Add-ons > Nano Banana "
                      "(get one free at aistudio.google.com) or set GEMINI_API_KEY.")


def offline() -> OnlineAccessDisabled:
    return OnlineAccessDisabled("Online access is disabled in Blender. Enable it in "
                                "Preferences > System > Network to generate images.")


def cancelled() -> Cancelled:
    return Cancelled("Cancelled. Nothing was changed.")


def model_gone(model: str, detail: str = "", listed: bool = True) -> ModelNotFound:
    """A model id the API no longer serves (404, or missing from the key's live list)."""
    info = models.lookup(model)
    name = f"{info.label} ({model})" if info.label != model else model
    if info.retired:
        when = f" on {info.retired}" if info.retired[:1].isdigit() else ""
        what = f"{name} was retired by Google{when}."
    elif not listed:
        what = f"{name} is not offered to your API key (retired or not enabled)."
    else:
        what = f"{name} is not available (retired, renamed or mistyped)."
    repl = models.successor(model)
    if repl is None and model != models.DEFAULT_MODEL:
        repl = models.DEFAULT_MODEL
    hint = (f" Switch to {models.label_of(repl)}." if repl else " Pick a model from the list.")
    err = ModelNotFound(what + hint, detail=detail, suggested_model=repl)
    if repl is None:
        err.fix = None      # nothing to switch to: the menu is the way out
    return err


def no_prompt() -> InvalidInput:
    return InvalidInput("Type a prompt first.")


def nothing_to_refine() -> InvalidInput:
    return InvalidInput("Nothing to refine yet: generate or edit an image first.")


def too_many_images(label: str, limit: int, extra: int) -> InvalidInput:
    return InvalidInput(f"{label} accepts up to {limit} input images; remove {extra} reference(s).")


def reference_unreadable(path: str, why: str) -> InvalidInput:
    return InvalidInput(f"Reference image {path} cannot be read ({why}).")


def prepare_failed(exc: BaseException) -> InvalidInput:
    return InvalidInput(f"Could not prepare the input ({type(exc).__name__}: {exc}). Nothing was sent.")


def entry_gone() -> InvalidInput:
    return InvalidInput("That saved result is gone from the history folder.")


def entry_unloadable(exc: BaseException) -> InvalidInput:
    return InvalidInput(f"The saved image cannot be loaded ({exc}).")


def entry_not_continuable() -> InvalidInput:
    return InvalidInput("This saved result cannot be continued: its conversation or images are "
                        "missing from the history folder.")


# ---------------------------------------------------------------- status words (not errors)
def sent_to(label: str) -> str:
    return f"Sent to {label}…"


def result_summary(count: int, label: str, seconds: float, cost: float, failures: list,
                   warnings: list[str], model_text: str) -> str:
    parts = [f"{count} image{'s' if count != 1 else ''} from {label} in {seconds:.1f} s"
             + (f", ${cost:.3f}" if cost else "")]
    if failures:
        parts.append(f"{len(failures)} variation(s) failed: {failures[0]}")
    parts += warnings
    if model_text:
        parts.append(f'Gemini: "{model_text[:200]}"')
    return ". ".join(p.rstrip(". ") for p in parts) + "."


def file_closed(label: str) -> str:
    return (f"A {label} result finished after its file was closed; it was not added to this "
            "file. Find it in the Nano Banana history.")


def apply_failed(exc: BaseException) -> str:
    if isinstance(exc, NanoBananaError):
        return f"{str(exc).rstrip('.')}. The result is saved in the Nano Banana history."
    return (f"Nano Banana could not apply a result ({type(exc).__name__}: {exc}). It is saved "
            "in the Nano Banana history.")


def no_result() -> str:
    return "The job ended without a result."


def settings_adjusted(label: str, changes: tuple[str, ...] | list[str]) -> str:
    return f"Adjusted for {label}: {'; '.join(changes)}."


def ratio_rewritten(requested: str, width: int, height: int) -> str:
    return (f"Asked for {requested} but the image came back {width}×{height}: the model or a "
            "proxy on the way changed the aspect ratio")


def history_indexing(found: int) -> str:
    return f"Indexing history… {found:,} found so far" if found else "Indexing history…"


def history_empty(searching: bool) -> str:
    return "Nothing matches" if searching else "No saved results yet"


def history_page(first: int, last: int, total: int, more: bool = False) -> str:
    return f"{first:,}–{last:,} of {total:,}" + ("+" if more else "")


def history_over_cap(used_mb: float, cap_mb: int) -> str:
    return f"History uses {used_mb:.0f} MB of {cap_mb} MB: prune…"


def input_too_large(total_mb: float) -> InputTooLarge:
    return InputTooLarge(f"The input images are too large to send ({total_mb:.1f} MB, limit "
                         "20 MB). Use fewer reference images.")


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    m = re.fullmatch(r"\s*([0-9.]+)s\s*", str(text))
    return float(m.group(1)) if m else None


def _details(payload: Any) -> list[dict]:
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        det = err.get("details") if isinstance(err, dict) else None
        if isinstance(det, list):
            return [d for d in det if isinstance(d, dict)]
    return []


def retry_delay_of(payload: Any) -> float | None:
    """Seconds from google.rpc.RetryInfo in an error body, if the server gave one."""
    for d in _details(payload):
        if str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            return _seconds(d.get("retryDelay"))
    return None


def _reason(payload: Any) -> str:
    for d in _details(payload):
        if d.get("reason"):
            return str(d["reason"])
    return ""


def redact(text: str, key: str | None) -> str:
    if key and len(key) >= 4:
        text = text.replace(key, "[API key]")
    return re.sub(r"([?&]key=)[^&\s]+", r"\1[API key]", text)


def from_http(code: int, status: str, message: str, payload: Any, model: str,
              key: str | None = None) -> NanoBananaError:
    """Typed error for an HTTP error answer from the Gemini API."""
    label = models.label_of(model)
    detail = redact(f"{code} {status}: {message}", key)
    reason = _reason(payload)
    if reason == "API_KEY_INVALID" or (code == 400 and "api key" in message.lower()):
        return InvalidKey("The Gemini API key was rejected. Check it in Preferences > "
                          "Add-ons > Nano Banana.", detail=detail)
    if code in (401, 403):
        return PermissionDenied("This API key may not use the Gemini API (permission denied). "
                                "Enable the Generative Language API for the key's project, "
                                "or check the region.", detail=detail)
    if code == 404:
        return model_gone(model, detail=detail)
    if code == 429:
        wait = retry_delay_of(payload)
        when = f"Try again in {max(1, round(wait))} s" if wait else "Try again in a minute"
        other = models.QUOTA_FALLBACK
        if model != other:
            return QuotaExceeded(f"Quota reached for {label}. {when} or switch to "
                                 f"{models.label_of(other)}.", detail=detail,
                                 retry_after=wait, suggested_model=other)
        err = QuotaExceeded(f"Quota reached for {label}. {when}, or check your plan's "
                            "limits in Google AI Studio.", detail=detail, retry_after=wait)
        err.fix = None      # already on the cheapest model: nothing to switch to
        return err
    if code == 413 or (code == 400 and ("size" in message.lower() and "exceed" in message.lower())):
        return InputTooLarge("The request is too large for Gemini. Use fewer or smaller "
                             "reference images.", detail=detail)
    if code == 504:
        return Timeout(f"{label} took too long to answer (server deadline). Try again, or use a "
                       "smaller size.", detail=detail)
    if code >= 500:
        return ServerBusy(f"Gemini is busy or failed ({code} {status or 'server error'}). "
                          "Try again in a moment.", detail=detail)
    return BadRequest(f"Gemini rejected the request: {redact(message, key) or status}.",
                      detail=detail)


BLOCK_WORDS = {
    "SAFETY": "it was flagged by safety filters",
    "PROHIBITED_CONTENT": "it asks for prohibited content",
    "BLOCKLIST": "it contains blocked terms",
    "IMAGE_SAFETY": "an input image was flagged by safety filters",
    "OTHER": "of Gemini's usage policies",
}


def prompt_blocked(reason: str) -> PromptBlocked:
    why = BLOCK_WORDS.get(reason, f"of {reason or 'an unspecified reason'}")
    return PromptBlocked(f"Gemini blocked the prompt because {why} ({reason}). Nothing was "
                         "charged for images. Rephrase the prompt or change the input.",
                         detail=reason)


REFUSAL_WORDS = {
    "IMAGE_SAFETY": "the image would break safety rules",
    "IMAGE_PROHIBITED_CONTENT": "the image would show prohibited content",
    "IMAGE_RECITATION": "the image would copy existing material too closely",
    "IMAGE_OTHER": "of an unspecified image policy",
    "NO_IMAGE": "the model produced no image",
    "SAFETY": "the answer would break safety rules",
    "PROHIBITED_CONTENT": "the answer would show prohibited content",
    "RECITATION": "the answer would copy existing material too closely",
    "MAX_TOKENS": "the answer ran out of length",
    "MALFORMED_FUNCTION_CALL": "the model produced an invalid answer",
    "MISSING_THOUGHT_SIGNATURE": "the earlier turn lost its thought signature",
    "OTHER": "of an unspecified reason",
}


def image_refused(reason: str, text: str = "") -> ImageRefused:
    why = REFUSAL_WORDS.get(reason, f"of {reason}")
    said = f' Gemini said: "{text.strip()}"' if text.strip() else ""
    return ImageRefused(f"Gemini returned no image because {why} ({reason}).{said} "
                        "Rephrase the prompt and try again.", detail=reason, model_text=text)


def text_only(text: str) -> TextOnly:
    return TextOnly(f'Gemini answered with text instead of an image: "{text.strip()}" '
                    "Adjust the prompt (e.g. say 'generate an image of ...') and try again.",
                    model_text=text)


def malformed(what: str) -> MalformedResponse:
    return MalformedResponse(f"Gemini sent an answer that could not be read ({what}). "
                             "Try again; if it persists, update the add-on.", detail=what)


def timeout(seconds: float, model: str) -> Timeout:
    return Timeout(f"No answer from {models.label_of(model)} after {seconds:.0f} s. Try again, "
                   "or raise the timeout in the add-on preferences.")


def network(detail: str) -> NetworkError:
    return NetworkError("Could not reach Gemini (network error). Check the internet "
                        "connection, proxy or the endpoint in preferences, then try again.",
                        detail=detail)
