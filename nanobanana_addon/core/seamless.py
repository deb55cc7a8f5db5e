"""Seamless, guaranteed (issue 12), on the job's worker thread: after each answer of a
Seamless request is kept (the raw image is already in history), measure how well it wraps
(tiling.tileability) and, if it does not tile, fix it:

- 'LOCAL' (free, offline): tiling.local_cross_blend; the centre keeps the model's pixels.
- 'MODEL' (one more priced request per image that does not tile): roll the image by half
  its size so the seams meet in a cross in the middle, send it with a black-and-white mask
  of that cross and tiling.REPAIR_PROMPT as an edit, paste back only the repaired band
  (tiling.composite_band: pixels where the mask is 0 stay the model's own, bit for bit),
  roll back. The wrap edges are then the repaired band's interior, continuous by
  construction. Checked again; if it still does not tile (or the request fails), the
  local cross-blend finishes the job.

The fixed image is recorded in history as its own entry with the sidecar fields
"seamless_fix" (mode), "tileability_before" / "tileability_after" (seam / interior
ratios), "raw_entry" (the model's own answer) and "fix_cost_usd". No bpy.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import errors
from .request import GenerationRequest, GenerationResult, InputImage, OutputImage

MODES = ("LOCAL", "MODEL")
REPAIR_BAND_SHARE = 1 / 16    # cross half-width (full, then feathered) as a share of the short side


def repair_band(h: int, w: int) -> int:
    """Pixels either side of each seam the model may change (1 within half of it,
    feathered to 0 at it): 1/16 of the short side, so the cross covers 1/8."""
    return max(2, round(min(h, w) * REPAIR_BAND_SHARE))


@dataclass
class Fixed:
    """One image after the check: the array and what was done to it."""
    image: Any                   # top-down uint8 array (the model's own when it tiled)
    before: Any                  # tiling.TileScore of the model's answer
    after: Any                   # tiling.TileScore of `image`
    mode: str = ""               # "" (tiled as it came), "LOCAL", "MODEL", "MODEL+LOCAL"
    cost_usd: float = 0.0        # of the repair request
    warning: str = ""


def local_fix(arr) -> tuple[Any, Any]:
    """(cross-blended image, its score)."""
    from . import tiling
    fixed = tiling.local_cross_blend(arr)
    return fixed, tiling.tileability(fixed)


def repair_inputs(arr) -> tuple[Any, Any, InputImage, InputImage]:
    """(half-offset image, cross mask, the image and the black-and-white mask to send)."""
    import numpy as np

    from . import images, pixels, tiling
    shifted = tiling.half_offset(arr)
    h, w = arr.shape[:2]
    mask = tiling.seam_cross_mask(h, w, repair_band(h, w))
    data, mime = images.prepare_input(pixels.encode_png(shifted))     # as any upload: <= 2K, <= 2 MB
    mask_png = pixels.encode_png(np.where(mask >= 0.5, 255, 0).astype(np.uint8))
    return (shifted, mask, InputImage(data, mime, "edit", "half-offset texture"),
            InputImage(mask_png, "image/png", "reference", "seam mask"))


def repair_request(request: GenerationRequest, image: InputImage, mask: InputImage) -> GenerationRequest:
    """The edit that repairs only the cross (no conversation, no seamless wording, one image)."""
    from . import tiling
    return replace(request, instruction=tiling.REPAIR_PROMPT, history=[], variations=1,
                   seamless=False, seamless_fix="", mask=None, images=[image, mask])


def model_fix(arr, request: GenerationRequest,
              generate: Callable[[GenerationRequest], GenerationResult]) -> tuple[Any, float]:
    """The model's repair of the seam cross, composited and rolled back: (image, cost).
    Raises errors.NanoBananaError when the request fails."""
    from . import pixels, tiling
    shifted, mask, image, mask_image = repair_inputs(arr)
    answer = generate(repair_request(request, image, mask_image))
    if not answer.images:
        raise errors.malformed("no image in the seam repair")
    repaired = pixels.decode_image(answer.images[0].data)
    merged = tiling.composite_band(shifted, repaired, mask)
    return tiling.undo_half_offset(merged), float(answer.cost_usd or 0.0)


def check_and_fix(arr, mode: str, request: GenerationRequest,
                  generate: Callable[[GenerationRequest], GenerationResult] | None) -> Fixed:
    """Measure one image and make it tile per `mode` (see the module docstring)."""
    from . import tiling
    before = tiling.tileability(arr)
    if before.tiles:
        return Fixed(arr, before, before)
    if mode == "MODEL" and generate is not None:
        try:
            repaired, cost = model_fix(arr, request, generate)
        except errors.NanoBananaError as exc:
            fixed, after = local_fix(arr)
            return Fixed(fixed, before, after, "LOCAL", 0.0, errors.seam_repair_failed(exc))
        after = tiling.tileability(repaired)
        if after.tiles:
            return Fixed(repaired, before, after, "MODEL", cost)
        fixed, after = local_fix(repaired)
        return Fixed(fixed, before, after, "MODEL+LOCAL", cost)
    fixed, after = local_fix(arr)
    return Fixed(fixed, before, after, "LOCAL")


def sidecar_fields(fix: Fixed, raw_entry_id: str) -> dict[str, Any]:
    return {"seamless_fix": fix.mode, "tileability_before": round(fix.before.ratio, 3),
            "tileability_after": round(fix.after.ratio, 3), "tiles_after": bool(fix.after.tiles),
            "raw_entry": raw_entry_id, "fix_cost_usd": round(fix.cost_usd, 6)}


def ensure(result: GenerationResult, saved: list, request: GenerationRequest,
           generate: Callable[[GenerationRequest], GenerationResult] | None,
           record: Callable[[GenerationResult, int, dict[str, Any]], Any]
           ) -> tuple[GenerationResult, list, list[str]]:
    """pipeline.run's hook: (result to land, its history entries, status notes). Images
    that tile are kept as they are (their raw entry stands); each fixed one is recorded
    through `record(result, index, sidecar_extra)` as its own entry. Never raises: a
    failure keeps the model's images and says so."""
    from . import pixels
    mode = request.seamless_fix if request.seamless_fix in MODES else "LOCAL"
    try:
        fixes = [check_and_fix(pixels.decode_image(img.data), mode, request, generate)
                 for img in result.images]
    except Exception as exc:  # noqa: BLE001 - keep the paid answer, say what failed
        return replace(result, warnings=[*result.warnings, errors.seam_check_failed(exc)]), saved, []
    notes = [errors.tileability_note(f.before.ratio, f.after.ratio, f.mode, f.after.tiles) for f in fixes]
    warnings = [f.warning for f in fixes if f.warning]
    if not any(f.mode for f in fixes):
        return result, saved, notes
    out: list[OutputImage] = []
    for img, f in zip(result.images, fixes, strict=True):
        if not f.mode:
            out.append(img)
            continue
        data = pixels.encode_png(f.image)
        out.append(OutputImage(data, "image/png", f.image.shape[1], f.image.shape[0]))
    repair_cost = sum(f.cost_usd for f in fixes)
    entries = list(saved)
    for i, f in enumerate(fixes):
        if f.mode:
            raw_id = getattr(saved[i], "id", "") if i < len(saved) else ""
            one = replace(result, images=[out[i]], cost_usd=f.cost_usd)
            try:
                entries[i] = record(one, 0, sidecar_fields(f, raw_id))
            except errors.NanoBananaError as exc:     # history.HistoryWriteError: disk full, ...
                entries[i] = None
                warnings.append(str(exc))
    cost = None if result.cost_usd is None and not repair_cost else (result.cost_usd or 0.0) + repair_cost
    fixed = replace(result, images=out, cost_usd=cost, warnings=[*result.warnings, *warnings])
    return fixed, entries, notes
