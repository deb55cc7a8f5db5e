"""Settings -> request: the one place that turns `scene.nanobanana` (plus captured input
images) into a GenerationRequest, and a history entry back into settings.

Used by every operator, Refine, the gallery's recall, and later the command line and
batches. It settles everything once: which model (refusing one that is gone), which
aspect ratio (AUTO -> the nearest the model takes for the given size), which size tier
(only if the model takes one), which thinking level, the reference images and their
limit, the prompt. Main thread (reads bpy data); the request it returns is plain values.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from ..core import errors, images, models
from ..core.request import JobKind
from . import live_models, properties

if TYPE_CHECKING:
    from ..core.masked_edit import MaskSpec
    from ..core.request import GenerationRequest, InputImage, Turn


def _references(settings) -> list[InputImage]:
    from ..core.request import InputImage
    from . import capture
    refs: list[InputImage] = []
    for item in settings.references:
        if item.image is not None:
            refs.append(capture.image_input(item.image, "reference"))
        elif item.filepath:
            path = bpy.path.abspath(item.filepath)
            try:
                with open(path, "rb") as fh:
                    refs.append(InputImage(fh.read(), capture.mime_of(path, ""), "reference",
                                           bpy.path.basename(path)))
            except OSError as exc:
                raise errors.reference_unreadable(path, exc.strerror or str(exc)) from None
    return refs


def check_model(model: str) -> None:
    """Raise the "retired / not offered" message, with its switch, for a dead model."""
    gone = live_models.gone(model)
    if gone is not None:
        raise gone


def request_from_settings(settings, kind: JobKind, inputs: list[InputImage] | tuple = (),
                          size_hint: tuple[int, int] = (0, 0), *, model: str | None = None,
                          history: list[Turn] | None = None,
                          variations: int | None = None) -> GenerationRequest:
    """The request for `settings`: `inputs` are the images to edit (captured by the
    operator), `size_hint` the pixel size AUTO ratio should follow, `model`/`history` a
    conversation to continue (Refine), `variations` a count that overrides the setting
    (texturing projects exactly one answer per view)."""
    from ..core.request import GenerationRequest
    prompt = properties.prompt_of(settings)
    if not prompt:
        raise errors.no_prompt()
    model = model or properties.model_id(settings)
    check_model(model)
    info = models.lookup(model)
    refs = _references(settings)
    if len(inputs) + len(refs) > info.max_reference_images:
        raise errors.too_many_images(info.label, info.max_reference_images,
                                     len(inputs) + len(refs) - info.max_reference_images)
    ratio = settings.aspect_ratio
    if ratio in ("", "AUTO"):
        w, h = size_hint
        ratio = images.nearest_aspect_ratio(w, h, info.aspect_ratios) if w and h else None
    fitted = models.fit(model, ratio, settings.image_size or None, 0, settings.speed)
    seamless = settings.seamless and kind not in (JobKind.EDIT_RENDER, JobKind.TEXTURE,
                                                 JobKind.EDIT_SEQUENCE)
    return GenerationRequest(
        model=model, prompt=prompt, images=[*inputs, *refs], aspect_ratio=fitted.aspect_ratio,
        image_size=fitted.image_size if info.image_sizes else None,
        variations=1 if history else variations or settings.variations, history=list(history or ()),
        kind=kind, seamless=seamless, seamless_fix=settings.seamless_fix if seamless else "",
        thinking_level=fitted.thinking, mask=_mask(settings, kind, inputs))


def _mask(settings, kind: JobKind, inputs) -> MaskSpec | None:
    """The artist's mask for an edit (a copy of its pixels), or None."""
    if not settings.use_mask or kind not in (JobKind.EDIT_TEXTURE, JobKind.EDIT_RENDER) or not inputs:
        return None
    img = settings.mask_image
    if img is None or not (img.size[0] and img.size[1]):
        raise errors.mask_missing()
    import numpy as np

    from ..core.masked_edit import MaskSpec
    w, h = img.size
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return MaskSpec(buf.reshape(h, w, 4), settings.mask_feather)


def recall_into_settings(settings, model: str, prompt: str, saved: dict) -> errors.ModelNotFound | None:
    """Put a history entry's prompt and settings back; a setting the model no longer takes
    is fitted (and said), a gone model is kept as it was and its message returned."""
    settings.prompt_text = None
    settings.prompt = prompt
    properties.set_model(settings, model or models.DEFAULT_MODEL)
    for prop in ("aspect_ratio", "image_size"):
        value = saved.get(prop)
        if value:
            try:
                setattr(settings, prop, value)
            except TypeError:
                pass            # not taken by this model: set_model already fitted it
    if isinstance(saved.get("variations"), int):
        settings.variations = max(1, saved["variations"])
    settings.seamless = bool(saved.get("seamless", False))
    return live_models.gone(properties.model_id(settings))
