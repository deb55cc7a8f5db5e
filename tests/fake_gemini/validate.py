"""Request validation of the fake Gemini server: checks a generateContent body
the way Google's front end does (JSON shape, roles, part oneof, base64,
MIME types, imageConfig against the model, 20 MB limit, thought signatures on
thinking models) and extracts the facts the behaviours need (RequestInfo).

Google's proto-JSON parser accepts both lowerCamelCase and snake_case field
names and both base64 alphabets (with or without padding); so does this.
Error texts copy Google's where they are publicly known; others are marked
"(fake)" in the message so nobody mistakes them for Google's wording.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from . import responses as R
from .pngenc import image_dimensions, looks_like_image

DEFAULT_MAX_REQUEST_BYTES = 20 * 1024 * 1024
IMAGE_MIMES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
OTHER_MIME_PREFIXES = ("application/pdf", "text/", "audio/", "video/")
DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse",
               "executableCode", "codeExecutionResult", "toolCall", "toolResponse")
PART_FIELDS = DATA_FIELDS + ("thought", "thoughtSignature", "videoMetadata", "partMetadata",
                             "mediaResolution")
# Documented dummy signatures that make the API skip signature validation.
BYPASS_SIGNATURES = {"skip_thought_signature_validator", "context_engineering_is_the_way_to_go"}
_B64_RE = re.compile(r"^[A-Za-z0-9+/_\-]*={0,2}$")


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def allowed(names) -> set:
    return set(names) | {snake(n) for n in names}


def get(obj: dict, camel: str, default=None):
    if camel in obj:
        return obj[camel]
    return obj.get(snake(camel), default)


def b64decode_any(value) -> bytes | None:
    """Decode standard or URL-safe base64, padded or not; None if invalid."""
    if not isinstance(value, str):
        return None
    s = "".join(value.split())
    if not _B64_RE.match(s):
        return None
    s = s.rstrip("=").replace("-", "+").replace("_", "/")
    if len(s) % 4 == 1:
        return None
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass
class RequestInfo:
    aspect_ratio: str | None = None
    image_size: str | None = None
    modalities: set = field(default_factory=lambda: {"TEXT", "IMAGE"})
    input_dims: tuple | None = None
    n_input_images: int = 0
    prompt_text_tokens: int = 1
    prompt_image_tokens: int = 0


class Invalid(Exception):
    def __init__(self, behaviour):
        super().__init__(getattr(behaviour, "message", str(behaviour)))
        self.behaviour = behaviour


def _bad(msg: str):
    raise Invalid(R.invalid_argument(msg))


def _unknown(obj: dict, names, where: str):
    ok = allowed(names)
    for key in obj:
        if key not in ok:
            _bad('Invalid JSON payload received. Unknown name "%s" at \'%s\': Cannot find field.' % (key, where))


def validate_generate(raw: bytes, spec, is_issued, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                      strict_images: bool = True):
    """Return (parsed_body, RequestInfo) or raise Invalid(behaviour)."""
    if len(raw) > max_bytes:
        _bad("Request payload size exceeds the limit: %d bytes." % max_bytes)
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        _bad("Invalid JSON payload received. Unexpected token.")
    if not isinstance(body, dict):
        _bad("Invalid JSON payload received. Unknown name \"\": Root element must be a message.")
    info = RequestInfo()
    contents = get(body, "contents")
    if not contents:
        _bad("* GenerateContentRequest.contents: contents is not specified\n")
    if not isinstance(contents, list):
        _bad("Invalid JSON payload received. Unknown name \"contents\": Proto field is not repeating, cannot start list.")
    text_chars, first_dims, last_user_dims = 0, None, None
    for ci, content in enumerate(contents):
        where = "contents[%d]" % ci
        if not isinstance(content, dict):
            _bad("Invalid value at '%s' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), %s"
                 % (where, json.dumps(content)[:60]))
        _unknown(content, ("role", "parts"), where)
        role = content.get("role")
        if role is None and len(contents) > 1:
            _bad("Please use a valid role: user, model.")
        if role not in (None, "user", "model"):
            _bad("Please use a valid role: user, model.")
        role = role or "user"
        parts = get(content, "parts")
        if not parts or not isinstance(parts, list):
            _bad("* GenerateContentRequest.%s.parts: contents.parts must not be empty.\n" % where)
        user_dims = None
        for pi, part in enumerate(parts):
            pwhere = "%s.parts[%d]" % (where, pi)
            if not isinstance(part, dict):
                _bad("Invalid value at '%s' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), %s"
                     % (pwhere, json.dumps(part)[:60]))
            _unknown(part, PART_FIELDS, pwhere)
            present = [f for f in DATA_FIELDS if get(part, f) is not None]
            if not present:
                _bad("* GenerateContentRequest.%s.data: required oneof field 'data' must have one "
                     "initialized field\n" % pwhere)
            if len(present) > 1:
                _bad("Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '%s'"
                     % present[1])
            thought = get(part, "thought")
            if thought is not None and not isinstance(thought, bool):
                _bad("Invalid value at '%s.thought' (TYPE_BOOL), %s" % (pwhere, json.dumps(thought)))
            sig = get(part, "thoughtSignature")
            if sig is not None and b64decode_any(sig) is None:
                _bad("Invalid value at '%s.thought_signature' (TYPE_BYTES), Base64 decoding failed for \"%s\""
                     % (pwhere, str(sig)[:40]))
            text = get(part, "text")
            if text is not None:
                if not isinstance(text, str):
                    _bad("Invalid value at '%s.text' (TYPE_STRING), %s" % (pwhere, json.dumps(text)[:40]))
                if role == "user":
                    text_chars += len(text)
            blob = get(part, "inlineData")
            if blob is None:
                continue
            bwhere = pwhere + ".inline_data"
            if not isinstance(blob, dict):
                _bad("Invalid value at '%s' (type.googleapis.com/google.ai.generativelanguage.v1beta.Blob)" % bwhere)
            _unknown(blob, ("mimeType", "data"), bwhere)
            mime = get(blob, "mimeType")
            if not mime:
                _bad("* GenerateContentRequest.%s.mime_type: mime_type is not specified\n" % pwhere.replace("inline", ""))
            data = b64decode_any(get(blob, "data", ""))
            if data is None:
                _bad("Invalid value at '%s.data' (TYPE_BYTES), Base64 decoding failed for \"%s\""
                     % (bwhere, str(get(blob, "data"))[:40]))
            mime = str(mime).lower()
            if mime.startswith("image/") and mime not in IMAGE_MIMES or \
                    not mime.startswith("image/") and not mime.startswith(OTHER_MIME_PREFIXES):
                _bad("Unsupported MIME type: %s" % mime)
            if not mime.startswith("image/"):
                continue
            if strict_images and not looks_like_image(data):
                _bad("Unable to process input image. Please retry or report in %s" % R.TROUBLESHOOT)
            if role == "user":
                info.n_input_images += 1
            dims = image_dimensions(data)
            first_dims = first_dims or dims
            if role == "user" and user_dims is None:
                user_dims = dims
            if spec.thinking and role == "model" and not thought:
                if sig is None:
                    _bad("Image part is missing a thought_signature in content position %d, part position %d. "
                         "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures#model-behavior "
                         "for more details." % (ci + 1, pi + 1))
                if sig not in BYPASS_SIGNATURES and not is_issued(sig):
                    _bad("Corrupted thought signature.")
        if user_dims is not None:
            last_user_dims = user_dims
    info.input_dims = last_user_dims or first_dims
    info.prompt_text_tokens = max(1, text_chars // 4)
    info.prompt_image_tokens = info.n_input_images * spec.input_image_tokens
    _check_config(body, spec, info)
    return body, info


def _check_thinking(tc, spec) -> None:
    if tc is None:
        return
    level, budget = get(tc, "thinkingLevel"), get(tc, "thinkingBudget")
    if level is not None and budget is not None:
        _bad("You can only set only one of thinking budget and thinking level.")
    if level is not None and level not in spec.thinking_levels:
        _bad("Thinking level %s is not supported for models/%s." % (json.dumps(level), spec.id))


def _check_config(body: dict, spec, info: RequestInfo) -> None:
    cfg = get(body, "generationConfig")
    if cfg is None:
        return
    if not isinstance(cfg, dict):
        _bad("Invalid value at 'generation_config' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig)")
    count = get(cfg, "candidateCount")
    if count is not None and count != 1:
        _bad("Multiple candidates is not enabled for models/%s" % spec.id)
    mods = get(cfg, "responseModalities")
    if mods is not None:
        if not isinstance(mods, list):
            _bad("Invalid value at 'generation_config.response_modalities' (fake): expected a list")
        norm = set()
        for i, m in enumerate(mods):
            if not isinstance(m, str) or m.upper() not in ("TEXT", "IMAGE", "AUDIO"):
                _bad("Invalid value at 'generation_config.response_modalities[%d]' "
                     "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), %s"
                     % (i, json.dumps(m)))
            norm.add(m.upper())
        if "AUDIO" in norm:
            _bad("Model does not support the requested response modalities: %s"
                 % ",".join(m.lower() for m in mods))
        if norm:
            info.modalities = norm
    for deprecated in ("temperature", "topP", "topK"):
        if get(cfg, deprecated) is not None:
            _bad("(fake) %s is deprecated for image models; do not send it." % deprecated)
    _check_thinking(get(cfg, "thinkingConfig"), spec)
    ic = get(cfg, "imageConfig")
    if ic is None:
        return
    if not isinstance(ic, dict):
        _bad("Invalid value at 'generation_config.image_config' (type.googleapis.com/google.ai.generativelanguage.v1beta.ImageConfig)")
    _unknown(ic, ("aspectRatio", "imageSize"), "generation_config.image_config")
    ar = get(ic, "aspectRatio")
    if ar is not None:
        if ar not in spec.ratios:
            _bad("(fake) Unsupported aspect ratio %s for models/%s. Supported values: %s."
                 % (json.dumps(ar), spec.id, ", ".join(spec.ratios)))
        info.aspect_ratio = ar
    size = get(ic, "imageSize")
    if size is not None:
        if not spec.sizes:
            _bad("(fake) Image size is not supported for models/%s; imageSize must not be set." % spec.id)
        if size not in spec.sizes:
            _bad("(fake) Unsupported image size %s for models/%s. Supported values: %s (uppercase K)."
                 % (json.dumps(size), spec.id, ", ".join(spec.sizes)))
        info.image_size = size
