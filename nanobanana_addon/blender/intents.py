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
                          variations: int | None = None,
                          carried_mask: MaskSpec | None = None) -> GenerationRequest:
    """The request for `settings`: `inputs` are the images to edit (captured by the
    operator), `size_hint` the pixel size AUTO ratio should follow, `model`/`history` a
    conversation to continue (Refine), `variations` a count that overrides the setting
    (texturing projects exactly one answer per view), `carried_mask` the mask of the
    masked result Refine continues (kept while Mask is on)."""
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
    mask = _mask(settings, kind, inputs, carried_mask)
    ratio = settings.aspect_ratio
    if ratio in ("", "AUTO"):
        if mask is not None and mask.base and not any(size_hint):   # Refine: the result's shape
            size_hint = images.probe(mask.base)[:2]
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
        thinking_level=fitted.thinking, mask=mask)


def _mask(settings, kind: JobKind, inputs, carried: MaskSpec | None = None) -> MaskSpec | None:
    """The artist's mask for an edit (a copy of its pixels), the carried one for Refine of
    a masked result, or None. Main thread: only the pixel copy; checks run on the worker."""
    if not settings.use_mask:
        return None
    if kind == JobKind.REFINE:
        return carried
    if kind not in (JobKind.EDIT_TEXTURE, JobKind.EDIT_RENDER) or not inputs:
        return None
    img = settings.mask_image
    if img is None or not (img.size[0] and img.size[1]):
        raise errors.mask_missing()
    from . import numpy_guard
    numpy_guard.require()
    import numpy as np

    from ..core.masked_edit import MaskSpec
    # The edited texture (capture.image_input names the input after its datablock).
    edited = bpy.data.images.get(inputs[0].name) if kind == JobKind.EDIT_TEXTURE else None
    if edited is not None and edited == img:
        raise errors.mask_is_the_image(img.name)
    notes: list[str] = []
    if edited is not None:
        from . import capture
        if capture.is_data(edited):
            notes.append(errors.mask_on_data(edited.name, edited.colorspace_settings.name))
        if edited.is_float or edited.depth > 32:      # 16-bit PNG, EXR: the composite is 8-bit
            notes.append(errors.mask_deep_image(edited.name))
    w, h = img.size
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return MaskSpec(buf.reshape(h, w, 4), settings.mask_feather, notes=tuple(notes))


def mask_of_entry(entry) -> MaskSpec | None:
    """The mask a history entry was made with, onto its own image (what Refine continues
    from), or None (no mask, or its files are gone)."""
    from ..core.masked_edit import MaskSpec
    path, image = entry.mask_path, entry.image_path
    if path is None or image is None:
        return None
    saved = entry.meta.get("mask") or {}
    try:
        feather = float(saved.get("feather_px") or 0.0)
        style = str(saved.get("style") or "TINT")
        return MaskSpec(feather_px=feather, style=style, png=path.read_bytes(), base=image.read_bytes())
    except (OSError, TypeError, ValueError):
        return None


def _recall_mask(settings, entry) -> None:
    """A masked entry's mask back into the settings, as a packed Non-Color image (one per
    entry: recalling twice reuses it). Entries without a mask leave the mask alone."""
    from . import apply
    path = entry.mask_path
    if path is None:
        if isinstance(entry.meta.get("mask"), dict):
            from . import runtime
            runtime.set_status(errors.mask_from_history_missing(entry.id), "WARNING")
        return
    name = f"{entry.id} mask"
    img = bpy.data.images.get(name)
    if img is None:
        img = apply.packed_image(name, path.read_bytes(), colorspace="Non-Color", decode_check=True)
    settings.mask_image, settings.use_mask = img, True
    feather = entry.meta["mask"].get("feather_px")
    if isinstance(feather, int | float) and not isinstance(feather, bool):
        settings.mask_feather = float(feather)


def recall_into_settings(settings, model: str, prompt: str, saved: dict,
                         entry=None) -> errors.ModelNotFound | None:
    """Put a history entry's prompt and settings back; a setting the model no longer takes
    is fitted (and said), a gone model is kept as it was and its message returned. With
    the `entry`, a masked edit's mask comes back too (mask_image, use_mask, feather)."""
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
    if entry is not None:
        _recall_mask(settings, entry)
    return live_models.gone(properties.model_id(settings))
