"""A PBR map set as a job (issue 12), on a worker thread: the texture's pixels (or its
stored file) in, height / normal / roughness (/ ambient occlusion) images out, through the
same Outcome the pump lands for Gemini results. Free, offline, deterministic: nothing is
sent and nothing is written to history (the maps can be derived again at any time).

The maps tile when the source tiles (tiling.tileability decides `tileable`), are written
top row first as uncompressed TIFF (see encode_tiff), and are Non-Color data (the Blender
target tags them). No bpy.
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
        rgb = np.asarray(img.pixels, np.float32)[..., :3]        # a view: no copy of 2K x 2K x 4
        if img.linear:
            rgb = pixels.linear_to_srgb(rgb).astype(np.float32)
        return rgb, "bottom"        # values past 0..1 are fine: height is stretched by percentiles
    return pixels.decode_image(img.data), "top"


def derive(spec: PbrSpec):
    """(PBRMaps, TileScore of the source)."""
    from . import pbr, tiling
    arr, origin = source_array(spec.source)
    score = tiling.tileability(arr)
    maps = pbr.pbr_maps(arr, tileable=score.tiles, origin=origin, normal_strength=spec.normal_strength,
                        ao=spec.ao)
    return maps, score


def encode_tiff(arr, *, bits: int = 8, origin: str = "top") -> bytes:
    """Uncompressed TIFF bytes of a float 0..1 map, top row first (grey in 8 or 16 bits, RGB
    in 8). Not PNG: derived maps are noisy and barely compress (a 2K normal map: 12.0 MB as
    PNG, 12.6 MB as TIFF), while zlib costs ~50x the time (0.8-1.6 s against 25 ms at 2K).
    Blender 4.2-5.x packs and decodes TIFF from memory like PNG."""
    import io

    import numpy as np
    from PIL import Image

    from .blur import from_float, to_float
    a = np.flipud(arr) if origin == "bottom" else arr
    dtype = np.dtype(np.uint16 if bits == 16 else np.uint8)
    if bits == 16 and a.ndim != 2:
        raise ValueError("16-bit maps are grey (height)")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(from_float(to_float(a), dtype))).save(buf, "TIFF")
    return buf.getvalue()


def run(spec: PbrSpec, cancel: threading.Event) -> Outcome:
    """The job's work: derive, encode (TIFF; height in 16 bits: no terracing in the bump), hand over."""
    from .pipeline import Outcome
    started = time.monotonic()
    maps, score = derive(spec)
    if cancel.is_set():
        raise errors.cancelled()
    h, w = maps.height.shape
    names = [n for n in MAP_ORDER if getattr(maps, n) is not None]
    images = [OutputImage(encode_tiff(getattr(maps, n), bits=16 if n == "height" else 8, origin=maps.origin),
                          "image/tiff", w, h) for n in names]
    request = GenerationRequest(model=LOCAL_MODEL, prompt=f"{spec.name} PBR", kind=JobKind.PBR_MAPS)
    result = GenerationResult(model=LOCAL_MODEL, images=images, cost_usd=0.0,
                              elapsed_s=time.monotonic() - started)
    return Outcome(request, [result], [None] * len(images),
                   notes=[errors.pbr_note([MAP_WORDS[n] for n in names], spec.name, score.tiles)])
