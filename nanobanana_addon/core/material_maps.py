"""A PBR map set as a job (issue 12), on a worker thread: the texture's pixels (or its
stored file) in, height / normal / roughness (/ ambient occlusion) PNGs out, through the
same Outcome the pump lands for Gemini results. Free, offline, deterministic: nothing is
sent and nothing is written to history (the maps can be derived again at any time).

The maps tile when the source tiles (tiling.tileability decides `tileable`), are written
top row first like every PNG, and are Non-Color data (the Blender target tags them). No bpy.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import errors
from .request import GenerationRequest, GenerationResult, InputImage, JobKind, OutputImage

if TYPE_CHECKING:
    from .pipeline import Outcome

LOCAL_MODEL = "local NumPy"         # shown where a model name would be ("... from local NumPy")
MAP_ORDER = ("height", "normal", "roughness", "ao")
MAP_WORDS = {"height": "height", "normal": "normal", "roughness": "roughness", "ao": "ambient occlusion"}


@dataclass(frozen=True)
class PbrSpec:
    source: InputImage              # capture.image_input: stored bytes, or a copy of the pixels
    name: str                       # the texture's name (status line, image names)
    ao: bool = False
    normal_strength: float = 1.0


def source_array(img: InputImage):
    """(array, origin): the texture as pbr.pbr_maps takes it. Blender pixels stay bottom-up
    (origin 'bottom', no flip); scene-linear colour is encoded to sRGB first so height
    follows the tone the artist sees. Stored files decode top-down (origin 'top')."""
    import numpy as np

    from . import pixels
    if img.pixels is not None:
        px = np.asarray(img.pixels, np.float32)
        rgb = px[..., :3]
        rgb = pixels.linear_to_srgb(rgb).astype(np.float32) if img.linear else np.clip(rgb, 0.0, 1.0)
        return rgb, "bottom"
    return pixels.decode_image(img.data), "top"


def derive(spec: PbrSpec):
    """(PBRMaps, TileScore of the source)."""
    from . import pbr, tiling
    arr, origin = source_array(spec.source)
    score = tiling.tileability(arr)
    maps = pbr.pbr_maps(arr, tileable=score.tiles, origin=origin, normal_strength=spec.normal_strength,
                        ao=spec.ao)
    return maps, score


def run(spec: PbrSpec, cancel: threading.Event) -> Outcome:
    """The job's work: derive, encode (PNG level 1: fast; height in 16 bits), hand over."""
    from .pipeline import Outcome
    started = time.monotonic()
    maps, score = derive(spec)
    if cancel.is_set():
        raise errors.cancelled()
    pngs = maps.pngs(compress_level=1)
    h, w = maps.height.shape
    names = [n for n in MAP_ORDER if n in pngs]
    images = [OutputImage(pngs[n], "image/png", w, h) for n in names]
    request = GenerationRequest(model=LOCAL_MODEL, prompt=f"{spec.name} PBR", kind=JobKind.PBR_MAPS)
    result = GenerationResult(model=LOCAL_MODEL, images=images, cost_usd=0.0,
                              elapsed_s=time.monotonic() - started)
    return Outcome(request, [result], [None] * len(images),
                   notes=[errors.pbr_note([MAP_WORDS[n] for n in names], spec.name, score.tiles)])
