"""A masked edit, on the job's worker thread: before the call, add a guide image that
marks the region and the wording that names it; after, put each answer back into the
original through the feathered mask, so pixels outside the mask are the original's,
bit for bit (core/masking.py does the array work).

No bpy: the Blender layer hands over the mask as a copy of its pixels (`MaskSpec`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .request import GenerationRequest, GenerationResult, InputImage, OutputImage


@dataclass(frozen=True)
class MaskSpec:
    """The artist's mask: Blender pixels (H x W x 4 float32, bottom-up), white = change."""
    pixels: Any
    feather_px: float = 0.0        # 0: the default for the image size
    style: str = "TINT"            # how the guide image marks the region


@dataclass
class MaskedContext:
    original: Any                  # top-down array, the exact pixels to keep
    mask: Any                      # masking.MaskInfo at the original's size
    feather_px: float | None
    warnings: tuple[str, ...]


def _original_array(img: InputImage):
    import numpy as np

    from . import masking
    if img.pixels is not None:
        from . import pixels as px
        top = img.pixels[::-1]
        if img.linear:
            rgb = px.linear_to_srgb(top[..., :3])
            top = np.concatenate([rgb, np.clip(top[..., 3:], 0, 1)], axis=2)
        return (np.clip(top, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return masking.decode_image(img.data)


def prepare(request: GenerationRequest) -> tuple[GenerationRequest, MaskedContext]:
    """The request with the guide image and the masked wording; the context to composite.
    Raises errors.InvalidInput for a mask that would do nothing (empty, everything)."""
    from . import masking
    spec: MaskSpec = request.mask
    edit = next(i for i in request.images if i.role == "edit")
    original = _original_array(edit)
    info = masking.check_mask(spec.pixels[::-1], original.shape)
    guide = masking.guide_image(original, info, spec.style)
    guide_input = InputImage(guide.image_png(), "image/png", "reference", "marked region")
    images = [edit, guide_input, *(i for i in request.images if i is not edit)]
    prepared = replace(request, images=images, instruction=guide.instruction(request.prompt), mask=None)
    ctx = MaskedContext(original, info, spec.feather_px or None, tuple(info.warnings))
    return prepared, ctx


def composite(result: GenerationResult, ctx: MaskedContext) -> GenerationResult:
    """Each answer put back into the original through the mask (aligned and resampled
    first), as PNG at the original's size."""
    from . import masking
    out = []
    for img in result.images:
        answer = masking.decode_image(img.data)
        feather = None if ctx.feather_px is None else round(ctx.feather_px)
        merged, _shift = masking.apply_edit(ctx.original, answer, ctx.mask, feather_px=feather)
        data = masking.encode_png(merged)
        out.append(OutputImage(data, "image/png", merged.shape[1], merged.shape[0]))
    return replace(result, images=out, warnings=[*result.warnings, *ctx.warnings])
