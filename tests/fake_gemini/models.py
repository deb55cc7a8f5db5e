"""Model catalogue of the fake Gemini server: which model ids exist, which
aspect ratios / image sizes each accepts, the output pixel size for every
(model, imageSize, aspectRatio) cell, and output token counts.

Data only (plus tiny lookup helpers). Sources, all public:
- Lineup (Nov 2026): gemini-nano-banana-2.1 (14 ratios, 1K/2K/4K, no 512),
  gemini-3-pro-image (10 ratios, 1K/2K/4K), gemini-3.1-flash-lite-image (14 ratios, 1K
  only); the retired ids stay in the table so a test can serve them on purpose.
- gemini-2.5-flash-image: Gemini API image-generation guide, table
  "aspect ratio | resolution | tokens" (1:1 1024x1024 1290 tokens ...).
  The model has a single 1K tier and no ``imageSize`` parameter.
- Gemini 3 image grid (gemini-3-pro-image-preview: 10 standard ratios, tiers
  1K/2K/4K; gemini-3.1-flash-image-preview: + 1:4 4:1 1:8 8:1 and tier
  "512"): the guide's per-tier tables, e.g. 16:9 = 1376x768 / 2752x1536 /
  5504x3072. The tiers are exact multiples of the "512" tier (x2, x4, x8).
- Output tokens: Vertex model cards -- Pro 1120 (1K, 2K) / 2000 (4K);
  3.1 Flash 747 (512) / 1120 (1K) / 1680 (2K) / 2520 (4K); 2.5 Flash 1290.
Not confirmed against Google's own page here: the "512" tier cell for 21:9
(derived as half of 1K's 1584x672).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

STANDARD_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTREME_RATIOS = ("1:4", "4:1", "1:8", "8:1")
ALL_RATIOS = STANDARD_RATIOS + EXTREME_RATIOS

GRID_25_FLASH = {
    "1K": {
        "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832),
        "3:4": (864, 1184), "4:3": (1184, 864), "4:5": (896, 1152),
        "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768),
        "21:9": (1536, 672),
    },
}

# The "512" tier of the Gemini 3 grid; 1K/2K/4K are x2/x4/x8 of it.
_GEMINI3_512 = {
    "1:1": (512, 512), "1:4": (256, 1024), "1:8": (192, 1536),
    "2:3": (424, 632), "3:2": (632, 424), "3:4": (448, 600),
    "4:1": (1024, 256), "4:3": (600, 448), "4:5": (464, 576),
    "5:4": (576, 464), "8:1": (1536, 192), "9:16": (384, 688),
    "16:9": (688, 384), "21:9": (792, 336),
}
GRID_GEMINI3 = {
    tier: {r: (w * k, h * k) for r, (w, h) in _GEMINI3_512.items()}
    for tier, k in (("512", 1), ("1K", 2), ("2K", 4), ("4K", 8))
}


@dataclass(frozen=True)
class ModelSpec:
    """What the fake knows about one model id."""
    id: str
    ratios: tuple = STANDARD_RATIOS
    sizes: tuple = ()             # accepted imageSize values; () = parameter not supported
    grid: dict = field(default_factory=lambda: GRID_25_FLASH)
    thinking: bool = False        # Gemini 3 "thinking" model: enforces thought signatures
    image_tokens: dict = field(default_factory=lambda: {"1K": 1290})
    input_image_tokens: int = 258
    thoughts_tokens: int = 0
    display_name: str = ""
    thinking_levels: tuple = ()   # accepted thinkingConfig.thinkingLevel values; () = none


_FLASH_LEVELS = ("MINIMAL", "HIGH")

MODELS = {
    # Live as of Nov 2026.
    "gemini-nano-banana-2.1": ModelSpec(
        id="gemini-nano-banana-2.1", display_name="Nano Banana 2.1",
        ratios=ALL_RATIOS, sizes=("1K", "2K", "4K"), grid=GRID_GEMINI3,
        thinking=True, thinking_levels=_FLASH_LEVELS,
        image_tokens={"1K": 1120, "2K": 1680, "4K": 2520},
        input_image_tokens=1120, thoughts_tokens=120),
    "gemini-3-pro-image": ModelSpec(
        id="gemini-3-pro-image", display_name="Nano Banana Pro",
        ratios=STANDARD_RATIOS, sizes=("1K", "2K", "4K"), grid=GRID_GEMINI3,
        thinking=True, image_tokens={"1K": 1120, "2K": 1120, "4K": 2000},
        input_image_tokens=560, thoughts_tokens=160),
    "gemini-3.1-flash-lite-image": ModelSpec(
        id="gemini-3.1-flash-lite-image", display_name="Nano Banana 2 Lite",
        ratios=ALL_RATIOS, sizes=("1K",), grid=GRID_GEMINI3,
        thinking=True, thinking_levels=_FLASH_LEVELS, image_tokens={"1K": 1120},
        input_image_tokens=560, thoughts_tokens=60),
    # Retired: served only when a test lists them in FakeGemini(live=[...]).
    "gemini-3.1-flash-image": ModelSpec(
        id="gemini-3.1-flash-image", display_name="Nano Banana 2",
        ratios=ALL_RATIOS, sizes=("512", "1K", "2K", "4K"), grid=GRID_GEMINI3,
        thinking=True, thinking_levels=_FLASH_LEVELS,
        image_tokens={"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
        input_image_tokens=1120, thoughts_tokens=120),
    "gemini-2.5-flash-image": ModelSpec(
        id="gemini-2.5-flash-image", display_name="Nano Banana",
        ratios=STANDARD_RATIOS, sizes=(), grid=GRID_25_FLASH, thinking=False,
        image_tokens={"1K": 1290}, input_image_tokens=258),
    "gemini-3-pro-image-preview": ModelSpec(
        id="gemini-3-pro-image-preview", display_name="Nano Banana Pro Preview",
        ratios=STANDARD_RATIOS, sizes=("1K", "2K", "4K"), grid=GRID_GEMINI3,
        thinking=True, image_tokens={"1K": 1120, "2K": 1120, "4K": 2000},
        input_image_tokens=560, thoughts_tokens=160),
    "gemini-3.1-flash-image-preview": ModelSpec(
        id="gemini-3.1-flash-image-preview", display_name="Nano Banana 2 Preview",
        ratios=ALL_RATIOS, sizes=("512", "1K", "2K", "4K"), grid=GRID_GEMINI3,
        thinking=True, image_tokens={"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
        input_image_tokens=1120, thoughts_tokens=120),
}
# What the real API serves today; everything else in MODELS answers 404 NOT_FOUND.
LIVE_IDS = ("gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image")


def generic_spec(model_id: str) -> ModelSpec:
    """Spec for an id given via FakeGemini(extra_models=[...]): accepts every
    ratio and size tier, Gemini 3 grid, not a thinking model."""
    return ModelSpec(id=model_id, ratios=ALL_RATIOS, sizes=("512", "1K", "2K", "4K"),
                     grid=GRID_GEMINI3, thinking=False,
                     image_tokens={"512": 747, "1K": 1290, "2K": 1680, "4K": 2520},
                     display_name=model_id)


def default_size(spec: ModelSpec) -> str:
    return "1K" if "1K" in spec.grid else next(iter(spec.grid))


def output_size(spec: ModelSpec, aspect: str, size: str | None) -> tuple:
    """(width, height) the real model returns for this ratio and tier."""
    grid = spec.grid.get(size or default_size(spec)) or spec.grid[default_size(spec)]
    return grid.get(aspect) or grid["1:1"]


def nearest_ratio(spec: ModelSpec, width: int, height: int) -> str:
    """The supported ratio closest (in log space) to width:height."""
    if width <= 0 or height <= 0:
        return "1:1"
    target = math.log(width / height)

    def dist(r: str) -> float:
        a, b = r.split(":")
        return abs(math.log(int(a) / int(b)) - target)
    return min(spec.ratios, key=dist)


def tokens_for(spec: ModelSpec, size: str | None) -> int:
    tier = size or default_size(spec)
    return spec.image_tokens.get(tier) or next(iter(spec.image_tokens.values()))
