"""A masked edit, on the job's worker thread: before the call, add a guide image that
marks the region and the wording that names it; after, put each answer back into the
original through the feathered mask, so pixels outside the mask are the original's,
bit for bit (core/masking.py does the array work).

Also owns what a masked result keeps for later: `AppliedMask` (the mask as used, a grey
PNG at the image's size) rides on the prepared request, so history saves it next to the
entry and Refine carries it (`carried`: same region, composited onto the last result).

No bpy: the Blender layer hands over the mask as a copy of its pixels (`MaskSpec`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .request import GenerationRequest, GenerationResult, InputImage, OutputImage


@dataclass(frozen=True)
class MaskSpec:
    """The artist's mask, white = change: Blender pixels (H x W x 4 float32, bottom-up),
    or `png` (grey, top-down: a mask from history). `base`: the image to edit and keep
    outside the mask when the request has no image of its own (Refine of a masked result).
    `notes`: words for the status line (e.g. the edited image holds data, not colour)."""
    pixels: Any = None
    feather_px: float = 0.0        # 0: the default for the image size
    style: str = "TINT"            # how the guide image marks the region
    png: bytes = b""
    base: bytes = b""
    notes: tuple[str, ...] = ()

    def plane(self):
        """The mask as a top-down array (any channels, as check_mask takes it)."""
        if self.pixels is not None:
            return self.pixels[::-1]
        from . import masking
        return masking.decode_image(self.png)


@dataclass(frozen=True)
class AppliedMask:
    """The mask a result was made with, at the edited image's size (8-bit grey PNG, before
    feathering) and how it was used. History writes it next to the entry."""
    png: bytes
    feather_px: float
    style: str

    def settings(self) -> dict[str, Any]:
        return {"feather_px": self.feather_px, "style": self.style}

    def refine(self, base: bytes) -> MaskSpec:
        return MaskSpec(feather_px=self.feather_px, style=self.style, png=self.png, base=base)


def carried(mask: Any, image_data: bytes) -> MaskSpec | None:
    """What Refine of a result carries over: its mask, onto the result's own pixels (the
    composited image), or None for a result made without a mask."""
    return mask.refine(image_data) if isinstance(mask, AppliedMask) and image_data else None


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
    import numpy as np

    from . import masking
    spec: MaskSpec = request.mask
    edit = next((i for i in request.images if i.role == "edit"), None)
    rest = [i for i in request.images if i is not edit]
    if edit is None:            # Refine: the last result is the image to edit
        edit = InputImage(spec.base, "image/png", "edit", "masked result")
    original = _original_array(edit)
    info = masking.check_mask(spec.plane(), original.shape)
    guide = masking.guide_image(original, info, spec.style)
    guide_input = InputImage(guide.image_png(), "image/png", "reference", "marked region")
    kept = AppliedMask(masking.encode_png(np.rint(info.mask * 255).astype(np.uint8)),
                       float(spec.feather_px), spec.style)
    prepared = replace(request, images=[edit, guide_input, *rest],
                       instruction=guide.instruction(request.prompt), mask=kept)
    ctx = MaskedContext(original, info, spec.feather_px or None, (*spec.notes, *info.warnings))
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
