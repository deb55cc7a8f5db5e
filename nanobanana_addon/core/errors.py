"""Every way a generation can fail, as a typed error carrying the words users read.

One place, one voice: each message says what happened and what to do. `fix` names an
action the UI can offer as a button (open preferences, enable online access, switch
model). `client.classify()` turns google-genai / httpx exceptions into these kinds.

Secrets: `redact()` hides the configured key and anything shaped like a Google API key
or access token. Every NanoBananaError redacts its message, detail and model text when
it is made, the status sentences below redact what they quote, and history redacts its
sidecars (`redact_all`). The Blender layer passes any other text it shows or logs
through `redact()`. What is sent to Gemini is never redacted.
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
        super().__init__(redact(message))
        if fix is not None:
            self.fix = fix
        self.detail = redact(detail)
        self.retry_after = retry_after
        self.model_text = redact(model_text)
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
    # A request already sent may still be answered (and billed): the answer is kept.
    return Cancelled("Cancelled: if Gemini still answers, the image will be in History.")


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


def _image_called(name: str) -> str:
    return f"The image {name}" if name else "The input image"


def image_too_large(name: str, width: int, height: int, max_pixels: int) -> InvalidInput:
    """An input image past the pixel limit we read (Pillow's own guard stays for others)."""
    side = int(max_pixels ** 0.5)
    return InvalidInput(f"{_image_called(name)} is {width}×{height} pixels, more than Nano Banana "
                        f"can read (at most {max_pixels / 1e6:.0f} megapixels, e.g. {side}×{side}). "
                        "Scale it down and try again: Gemini works at 2048 px at most anyway.")


def image_out_of_memory(name: str, width: int, height: int) -> InvalidInput:
    return InvalidInput(f"{_image_called(name)} ({width}×{height} pixels) needs more memory than is "
                        "free to read. Close other programs or scale the image down, then try again.")


def image_unreadable(name: str) -> InvalidInput:
    return InvalidInput(f"{_image_called(name)} could not be read: it is not an image, or not in a "
                        "format Nano Banana knows. Save it as PNG or JPEG and try again.")


def image_damaged(name: str, exc: BaseException) -> InvalidInput:
    return InvalidInput(f"{_image_called(name)} is damaged or incomplete ({exc}). Open it in an "
                        "image editor and save it again, then try again.")


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
                   warnings: list[str], model_text: str, notes: list[str] | tuple = ()) -> str:
    parts = [f"{count} image{'s' if count != 1 else ''} from {label} in {seconds:.1f} s"
             + (f", ${cost:.3f}" if cost else "")]
    parts += notes
    if failures:
        parts.append(f"{len(failures)} variation(s) failed: {failures[0]}")
    parts += warnings
    text = ". ".join(p.rstrip(". ") for p in parts) + "."
    if model_text:
        text += f' Gemini said: "{model_text[:200].strip()}"'
    return redact(text)


def file_closed(label: str) -> str:
    return (f"A {label} result finished after its file was closed; it was not added to this "
            "file. Find it in the Nano Banana history.")


def apply_failed(exc: BaseException) -> str:
    if isinstance(exc, NanoBananaError):
        return f"{str(exc).rstrip('.')}. The result is saved in the Nano Banana history."
    return redact(f"Nano Banana could not apply a result ({type(exc).__name__}: {exc}). It is "
                  "saved in the Nano Banana history.")


def composite_failed(exc: BaseException) -> str:
    return (f"The answer could not be put back through the mask ({type(exc).__name__}: {exc}); "
            "the whole answer was kept instead")


FIX_WORDS = {"LOCAL": "a local cross-blend", "MODEL": "a model seam repair",
             "MODEL+LOCAL": "a model seam repair and a local cross-blend"}


def tileability_note(before: float, after: float, mode: str, tiles: bool) -> str:
    """How well a Seamless result wraps: its seam step against the median step between
    neighbouring pixels inside the image (~1x: no visible seam)."""
    if not mode:
        return f"Tiles: seams {after:.1f}× the interior"
    head = "Tiles" if tiles else "Seams still visible"
    return f"{head}: seams {after:.1f}× the interior after {FIX_WORDS.get(mode, mode)} (were {before:.1f}×)"


def seam_repair_failed(exc: BaseException) -> str:
    return (f"The seam repair request failed ({exc}); the seams were blended locally instead, "
            "at no cost")


def seam_check_failed(exc: BaseException) -> str:
    return (f"The seamless check could not run ({type(exc).__name__}: {exc}); the image is the "
            "model's own and may not tile")


def pbr_note(names: list[str], source: str, tiles: bool) -> str:
    wrap = "tileable like the source" if tiles else "not tileable (the source does not tile)"
    return f"PBR maps of '{source}': {', '.join(names)}, {wrap}, no cost"


def mask_missing() -> InvalidInput:
    return InvalidInput("Masked edit is on but there is no mask image. Press New Mask and paint "
                        "the area to change, or turn Mask off.")


def key_works(image_models: list[str]) -> str:
    if not image_models:
        return ("The key works, but it may not use any image model. Check the key's project in "
                "Google AI Studio.")
    return f"The key works. Image models it may use: {', '.join(image_models)}."


def targets_gone(material: str) -> str:
    return (f"The objects it was made for were deleted; the result is in the file as material "
            f"'{material}' and in the Nano Banana history")


def node_gone(image: str) -> str:
    return (f"The texture node it was made for is gone; the result is in the file as image "
            f"'{image}' and in the Nano Banana history")


def no_render_result() -> InvalidInput:
    return InvalidInput("There is no final render to edit yet. Render with F12 first, or choose "
                        "the Viewport or Camera render source.")


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


def history_page(first: int, last: int, total: int | None, more: bool = False) -> str:
    """`total` None: still being counted (the next frame shows it)."""
    return f"{first:,}–{last:,} of " + ("…" if total is None else f"{total:,}" + ("+" if more else ""))


def history_over_cap(used_mb: float, cap_mb: int) -> str:
    return f"History uses {used_mb:.0f} MB of {cap_mb} MB: prune…"


def input_too_large(total_mb: float) -> InputTooLarge:
    return InputTooLarge(f"The input images are too large to send ({total_mb:.1f} MB, limit "
                         "20 MB). Use fewer reference images.")


def mask_empty() -> InvalidInput:
    return InvalidInput("The mask is empty: nothing is painted, so the edit would change nothing. "
                        "Paint white where the image should change, or turn the mask off to "
                        "edit the whole image.")


def mask_covers_all() -> InvalidInput:
    return InvalidInput("The mask covers the whole image, so it limits nothing. Use a normal edit "
                        "(turn the mask off), or paint black over the parts to keep.")


def mask_resized(mw: int, mh: int, iw: int, ih: int) -> str:
    return (f"The mask is {mw}×{mh} px but the image is {iw}×{ih} px, so the mask was "
            "resampled to fit; its edges may be soft. Press New Mask on this image for an exact fit")


def mask_on_data(image: str, colorspace: str) -> str:
    return (f"'{image}' is {colorspace} data (a normal, roughness or other map): the model sees "
            "its raw values as colours and may not keep them valid inside the mask. For normal "
            "and height maps, edit the colour texture and make the maps again with PBR Maps")


def mask_deep_image(image: str) -> str:
    return (f"'{image}' has more than 8 bits per channel but the masked result is an 8-bit PNG: "
            "outside the mask its values are kept to 8-bit precision")


def mask_is_the_image(image: str) -> InvalidInput:
    return InvalidInput(f"The mask image is '{image}', the image being edited. Press New Mask to "
                        "make a separate black mask and paint white where the edit may change it.")


def mask_from_history_missing(entry_id: str) -> str:
    return f"The mask of {entry_id} is missing from the history folder; the mask was left as it is"


def mask_lasso_too_small() -> InvalidInput:
    return InvalidInput("The lasso needs at least three points: drag around the area to change.")


def mask_lasso_no_editor() -> InvalidInput:
    return InvalidInput("Open an Image Editor (showing the mask, or the texture or render to edit) "
                        "and draw the lasso there.")


def mask_lasso_hint() -> str:
    return "Lasso: drag around the area to change · Ctrl: take it away · Esc: cancel"


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


REDACTED = "[API key]"
# A Google API key is "AIza" + 35 characters (glued text goes with it); an OAuth access
# token (Vertex AI) starts "ya29.".
_SECRET_SHAPES = re.compile(r"AIza[0-9A-Za-z_\-]{35,}|ya29\.[0-9A-Za-z_\-]{10,}")
_URL_KEY = re.compile(r"([?&]key=)[^&\s]+")


def redact(text: str, key: str | None = None) -> str:
    """`text` with every key hidden: the configured `key` (any shape), anything shaped
    like a Google API key or access token, and `key=` in URLs. For everything the add-on
    writes or shows (history, status, reports, logs); never for what is sent to Gemini."""
    if not text:
        return text
    if key and len(key) >= 4:
        text = text.replace(key, REDACTED)
    text = _SECRET_SHAPES.sub(REDACTED, text)
    return _URL_KEY.sub(r"\1" + REDACTED, text)


def redact_all(value: Any, key: str | None = None, skip: frozenset[str] = frozenset()) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string redacted,
    except the values of dict keys in `skip` (binary data such as base64 signatures)."""
    if isinstance(value, str):
        return redact(value, key)
    if isinstance(value, dict):
        return {k: v if k in skip else redact_all(v, key, skip) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(v, key, skip) for v in value]
    return value


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
    """The overall deadline (the Timeout preference) passed, however the answer came."""
    return Timeout(f"Gemini did not answer within {seconds:.0f} s ({models.label_of(model)}). "
                   "Try again, or raise the timeout in Preferences > Add-ons > Nano Banana.")


def network(detail: str) -> NetworkError:
    return NetworkError("Could not reach Gemini (network error). Check the internet "
                        "connection, proxy or the endpoint in preferences, then try again.",
                        detail=detail)


# ---------------------------------------------------------------- command line and batches
def offline_cli() -> OnlineAccessDisabled:
    return OnlineAccessDisabled("Online access is off for this Blender run. Put --online-mode "
                                "before -c (blender --online-mode -c nanobanana ...) or allow "
                                "it in Preferences > System > Network.")


def bad_choice(what: str, value: str, choices: list[str] | tuple[str, ...]) -> InvalidInput:
    return InvalidInput(f"This model does not take {what} {value!r}; choose one of: "
                        f"{', '.join(choices)}.")


def file_unreadable(path: str, why: str) -> InvalidInput:
    return InvalidInput(f"Cannot read {path} ({why}).")


def no_prompts(path: str) -> InvalidInput:
    return InvalidInput(f"{path} holds no prompts (one per line; blank lines and lines starting "
                        "with # are skipped).")


def blend_save_failed(path: str, why: str) -> NanoBananaError:
    return NanoBananaError(f"The images are in history but {path} could not be saved ({why}).")


def batch_unknown(batch_id: str) -> InvalidInput:
    return InvalidInput(f"No batch {batch_id!r} in this history folder. `batch status` lists "
                        "the batches sent from here.")


def batch_too_large(total_mb: float) -> InputTooLarge:
    return InputTooLarge(f"The batch is too large to send ({total_mb:.0f} MB of requests, limit "
                         "2 GB). Split it into several batches.")


def batch_item_failed(message: str, code: int = 0) -> NanoBananaError:
    return NanoBananaError(f"This request of the batch failed: {message or 'no reason given'}"
                           + (f" (code {code})." if code else "."))


def batch_item_missing() -> MalformedResponse:
    return MalformedResponse("The batch finished without an answer for this request.")


BATCH_STATE_WORDS = {
    "PENDING": "waiting to start",
    "RUNNING": "running",
    "SUCCEEDED": "finished",
    "FAILED": "failed as a whole (nothing was produced; nothing is charged)",
    "CANCELLED": "cancelled (finished requests are kept)",
    "EXPIRED": "expired: Gemini did not finish it within 48 hours (unfinished requests are "
               "not charged; send them again)",
}


def batch_state_words(state: str) -> str:
    return BATCH_STATE_WORDS.get(state, state.lower() or "unknown")


def batch_summary(name: str, state: str, done: int, total: int, failed: int, cost: float) -> str:
    text = f"Batch {name}: {batch_state_words(state)}, {done} of {total} image(s) saved"
    if failed:
        text += f", {failed} failed"
    if cost:
        text += f", ${cost:.3f} at the batch price"
    return text + "."


def batch_no_mask() -> InvalidInput:
    return InvalidInput("Masked edits are not sent as batches (the mask is applied when the "
                        "answer arrives). Turn the mask off, or use Edit Texture / Edit Render.")


def batch_gone(name: str) -> InvalidInput:
    return InvalidInput(f"Gemini no longer knows batch {name} (deleted, or older than Gemini "
                        "keeps batches). Its saved results are in history.")


# ---------------------------------------------------------------- texturing (issue 11)
def no_mesh_selected() -> InvalidInput:
    return InvalidInput("Select the mesh objects to texture first.")


def not_a_mesh(names: list[str]) -> InvalidInput:
    shown = ", ".join(f"'{n}'" for n in names[:3]) + (" …" if len(names) > 3 else "")
    return InvalidInput(f"{shown} {'is' if len(names) == 1 else 'are'} not a mesh: texturing "
                        "paints mesh objects. Select a mesh (or convert it to one).")


def mesh_has_no_faces(name: str) -> InvalidInput:
    return InvalidInput(f"'{name}' has no faces to put a texture on.")


def no_texture_camera() -> InvalidInput:
    return InvalidInput("The scene has no active camera to texture from. Add a camera and make "
                        "it active (scripts and the command line texture from the active camera).")


def texture_capture_lost(name: str) -> InvalidInput:
    return InvalidInput(f"'{name}' was deleted while its views were being captured. Nothing "
                        "was sent; select the mesh and press the button again.")


def texture_capture_changed(name: str) -> InvalidInput:
    return InvalidInput(f"'{name}' changed while its views were being captured. Nothing was "
                        "sent; press the button again when it is ready.")


def texture_capture_cancelled() -> str:
    return "Texturing cancelled while capturing the views: nothing was sent"


def leave_edit_mode() -> InvalidInput:
    return InvalidInput("Leave Edit Mode first: texturing reads the meshes as they are in "
                        "Object Mode.")


def bake_missing() -> InvalidInput:
    return InvalidInput("The texture could not be baked: the projection did not run.")


def bake_summary(names: list[str], coverage: list[float], views: list[str]) -> str:
    """What the Texture panel says after a bake: how much of each surface got colour."""
    parts = [f"{n}: {c * 100:.0f} %" for n, c in zip(names, coverage, strict=True)]
    used = ", ".join(views) if views else "none"
    return f"Surface textured — {'; '.join(parts)} (views used: {used})."


def nothing_to_revert() -> str:
    return "The selected objects have no Nano Banana texture to take back."


def bake_target_missing(name: str) -> InvalidInput:
    return InvalidInput(f"'{name}', the object this texture was baked for, is not in this file. "
                        "Select the mesh to put it on (it needs a UV map).")


def bake_reapplied(names: list[str]) -> str:
    return f"Baked texture back on {', '.join(names)}"


# ---------------------------------------------------------------- frame sequences (issue 13)
def _frames_text(numbers: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def not_a_sequence(what: str) -> InvalidInput:
    return InvalidInput(f"{what} is not an image sequence: give numbered files (shot_0001.png, "
                        "shot_0002.png, ...) as one of them or a pattern such as shot_####.png, "
                        "or open the sequence in the Image Editor (Source: Image Sequence).")


def sequence_empty(pattern: str, frames: str) -> InvalidInput:
    where = f" for frames {frames}" if frames else ""
    return InvalidInput(f"No files match {pattern}{where}. Check the folder and the numbering, "
                        "or render the animation first.")


def frames_missing(pattern: str, numbers: list[int]) -> InvalidInput:
    return InvalidInput(f"The sequence {pattern} is missing frame{'s' if len(numbers) != 1 else ''} "
                        f"{_frames_text(numbers)}. Render or copy them, or choose a frame range "
                        "without gaps.")


def sequence_too_long(count: int, limit: int) -> InvalidInput:
    return InvalidInput(f"The sequence has {count} frames; Nano Banana edits at most {limit} at "
                        f"once (one paid request each). Choose a frame range of {limit} or fewer "
                        "and run the rest afterwards.")


def sequence_format(ext: str, what: str) -> InvalidInput:
    return InvalidInput(f"{what}: {ext} frames cannot be sent to Gemini. Render the frames as "
                        "PNG or JPEG (Output Properties > Output > File Format).")


def frame_range_invalid(text: str) -> InvalidInput:
    return InvalidInput(f"{text!r} is not a frame range: write START-END, such as 1-48.")


def frame_not_written(path: str, exc: BaseException) -> NanoBananaError:
    why = getattr(exc, "strerror", None) or str(exc)
    return NanoBananaError(f"The edited frame could not be written to {path} ({why}); it is in "
                           "the Nano Banana history.")


def frames_failed(numbers: list[int], first: BaseException) -> str:
    return (f"Frame{'s' if len(numbers) != 1 else ''} {_frames_text(numbers)} failed "
            f"({str(first).rstrip('.')}); the other frames are written")


def sequence_written(count: int, pattern: str) -> str:
    return f"{count} edited frame{'s' if count != 1 else ''} written as {pattern}"


def no_sequence_source() -> InvalidInput:
    return InvalidInput("Nothing to edit as a sequence: show an image sequence in the Image "
                        "Editor (Source: Image Sequence), or render the animation to files and "
                        "use the scene's frame range.")


# ---------------------------------------------------------------- texturing from the command line
def object_not_found(name: str, names: list[str]) -> InvalidInput:
    near = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    return InvalidInput(f"The file has no object named {name!r}" + (f" (objects: {near})." if near else "."))


def blend_not_found(path: str) -> InvalidInput:
    return InvalidInput(f"No .blend file at {path}.")


class NumpyMissing(NanoBananaError):
    kind = "numpy_missing"


def numpy_missing() -> NumpyMissing:
    return NumpyMissing("This needs NumPy, which this Blender build does not include (some "
                        "Linux distribution packages leave it out). Use Blender from blender.org, "
                        "or install the distribution's NumPy package (python3-numpy).")


def sequence_variations() -> InvalidInput:
    return InvalidInput("--variations does not apply to --sequence: each frame gets one answer, "
                        "in the style of the first.")


def sequence_batch_pending(first: int, batch_id: str) -> str:
    return (f"Frame {first} is written; the other frames are in batch {batch_id}. Use --wait to "
            f"have them written as numbered files; `batch fetch {batch_id}` only saves them into "
            "history.")


def object_not_in_view_layer(name: str, layer: str) -> InvalidInput:
    return InvalidInput(f"'{name}' is not in the view layer '{layer}': include its collection, or "
                        "move it into the scene.")


def only_with_sequence() -> InvalidInput:
    return InvalidInput("--frames and --batch go with --sequence (a numbered image sequence).")


# ---------------------------------------------------------------- picking a variation (issue 15)
def variation_pick_title(count: int, where: str) -> str:
    """The panel's title over the thumbnails of variations waiting to be picked."""
    return f"{count} variations for {where}: pick one to apply it (the others stay in History)."


def variation_picked(number: int, where: str) -> str:
    return f"Variation {number} applied to {where}."


def variation_gone() -> InvalidInput:
    return InvalidInput("Those variations are no longer waiting to be picked (the file changed, "
                        "or one was applied already). They are in the History panel.")
