"""Conversion between our plain request/result types and the Gemini API (google-genai
types), as plain functions shared by the client, a batch submitter and tests:

- `user_turn(request)` and `to_content(turn)`: the conversation to send;
- `to_config(request)`: the generation config (image size, ratio, thinking level) the model
  takes according to the catalog, nothing else (no deprecated sampling parameters);
- `from_response(response, request)`: images, text, usage, cost and warnings, or the typed
  refusal / block / malformed error it amounts to;
- `to_rest(request)`: the same contents + generationConfig as REST JSON (a batch file line).
No transport here (see client.py); google-genai is imported inside the functions.
"""
from __future__ import annotations

from typing import Any

from . import errors, images, models
from .request import GenerationRequest, GenerationResult, JobKind, OutputImage, Part, Turn, Usage

# Added after the artist's prompt when "Seamless texture" is on.
SEAMLESS = ("Make the result a seamless, tileable texture: edges that wrap on all four sides, "
            "even lighting without shadows or highlights, seen straight on with no perspective.")
# Added after the artist's prompt for texturing: the answer is projected back onto the model
# from the same camera, so it must keep every outline where it is, and carry no lighting.
TEXTURE = ("The image to edit is a plain grey render of 3D objects. Paint their surfaces as "
           "described, as their colour texture: keep the camera, every outline, edge and shape "
           "exactly where it is, add or remove nothing, keep the background plain, and use flat, "
           "even light with no cast shadows or highlights. If a reference image shows the same "
           "objects painted from another side, match its colours, materials and style.")


def to_content(turn: Turn):
    """One conversation turn as a google-genai Content (thought signatures unchanged)."""
    from google.genai import types
    parts = []
    for p in turn.parts:
        blob = types.Blob(mime_type=p.mime_type, data=p.data) if p.data is not None else None
        parts.append(types.Part(text=p.text, inline_data=blob, thought=p.thought or None,
                                thought_signature=p.thought_signature))
    return types.Content(role=turn.role, parts=parts)

def user_turn(request: GenerationRequest) -> Turn:
    """The new user turn: the prompt (+ the seamless wording), then each labelled image."""
    text = request.instruction or request.prompt
    extra = SEAMLESS if request.seamless else TEXTURE if request.kind == JobKind.TEXTURE else ""
    parts = [Part(text=f"{text}\n\n{extra}" if extra else text)]
    refs = 0
    for img in request.images:
        if img.role == "edit":
            label = "Image to edit:"
        else:
            refs += 1
            label = f"Reference image {refs}" + (f" ({img.name}):" if img.name else ":")
        parts += [Part(text=label), Part(data=img.data, mime_type=img.mime_type)]
    return Turn("user", tuple(parts))

def to_config(request: GenerationRequest):
    """GenerateContentConfig with only what the model takes (catalog facts)."""
    from google.genai import types
    info = models.lookup(request.model)
    ratio = request.aspect_ratio if request.aspect_ratio not in (None, "", "AUTO") else None
    size = request.image_size if info.supports_size(request.image_size) else None
    image_config = types.ImageConfig(aspect_ratio=ratio, image_size=size) if (ratio or size) else None
    # Only a level the catalog maps for this model; no sampling parameters (deprecated).
    level = request.thinking_level if request.thinking_level in info.thinking_levels.values() else None
    thinking = types.ThinkingConfig(thinking_level=types.ThinkingLevel(level)) if level else None
    return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                       image_config=image_config, thinking_config=thinking)


def from_response(response: Any, request: GenerationRequest) -> GenerationResult:
    """GenerateContentResponse -> GenerationResult, or the typed error it amounts to."""
    candidates = getattr(response, "candidates", None) or []
    if not candidates:
        feedback = getattr(response, "prompt_feedback", None)
        reason = _enum_name(getattr(feedback, "block_reason", None))
        if reason:
            raise errors.prompt_blocked(reason)
        raise errors.malformed("no candidates in the answer")
    cand = candidates[0]
    finish = _enum_name(getattr(cand, "finish_reason", None))
    content = getattr(cand, "content", None)
    parts = list(getattr(content, "parts", None) or [])
    outputs: list[OutputImage] = []
    texts: list[str] = []
    kept: list[Part] = []
    for p in parts:
        blob = getattr(p, "inline_data", None)
        thought = bool(getattr(p, "thought", False))
        kept.append(Part(text=p.text, data=getattr(blob, "data", None),
                         mime_type=getattr(blob, "mime_type", None), thought=thought,
                         thought_signature=getattr(p, "thought_signature", None)))
        if thought:
            continue
        if blob is not None and (blob.mime_type or "").startswith("image/"):
            if not blob.data:
                raise errors.malformed("empty image data")
            w, h, mime = images.probe(blob.data)       # the header first: refuse absurd sizes
            if w * h > images.MAX_INPUT_PIXELS:
                raise errors.malformed(f"an image of {w}×{h} pixels")
            # Checked whole here, on the worker: the main thread packs it without a check.
            w, h, mime = images.check_output(blob.data)
            outputs.append(OutputImage(blob.data, mime, w, h))
        elif p.text:
            texts.append(p.text)
    text = "\n".join(t.strip() for t in texts if t.strip())
    if not outputs:
        if finish and finish not in ("STOP", "FINISH_REASON_UNSPECIFIED"):
            raise errors.image_refused(finish, text)
        if text:
            raise errors.text_only(text)
        raise errors.image_refused("NO_IMAGE")
    um = getattr(response, "usage_metadata", None)
    usage = Usage(prompt_tokens=getattr(um, "prompt_token_count", 0) or 0,
                  output_tokens=getattr(um, "candidates_token_count", 0) or 0,
                  thoughts_tokens=getattr(um, "thoughts_token_count", 0) or 0,
                  total_tokens=getattr(um, "total_token_count", 0) or 0)
    size = request.image_size if models.lookup(request.model).supports_size(request.image_size) else None
    warnings = [errors.ratio_rewritten(request.aspect_ratio or "", o.width, o.height)
                for o in outputs[:1]
                if models.ratio_mismatch(request.aspect_ratio, o.width, o.height)]
    return GenerationResult(
        model=request.model, images=outputs, text=text, finish_reason=finish or "STOP",
        usage=usage, cost_usd=models.actual_cost(request.model, size, len(outputs), usage.prompt_tokens),
        turns=[Turn("model", tuple(kept))],
        model_version=getattr(response, "model_version", "") or "", warnings=warnings)


def _enum_name(value: Any) -> str:
    if value is None:
        return ""
    name = getattr(value, "name", None) or getattr(value, "value", None) or value
    return str(name)


def to_rest(request: GenerationRequest) -> dict[str, Any]:
    """The GenerateContentRequest body (REST JSON, camelCase, base64 data) for `request`:
    what google-genai sends for `generate_content` with `user_turn`/`to_config`, written
    out for a Batch API file of requests, where the SDK does not convert for us."""
    turns = [*request.history, user_turn(request)]
    dump = {"mode": "json", "by_alias": True, "exclude_none": True}
    return {"contents": [to_content(t).model_dump(**dump) for t in turns],      # type: ignore[arg-type]
            "generationConfig": to_config(request).model_dump(**dump)}       # type: ignore[arg-type]
