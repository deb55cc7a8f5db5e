"""The model catalog, as data: every fact about a Gemini image model lives here.

Ids, labels, aspect ratios, size tiers, reference-image limits, thinking levels, prices
(dated; third-party figures marked as estimates), typical latency (for the progress
estimate), retirement dates and the chain of successors. Unknown ids (typed by the artist,
or found by live discovery) get safe defaults from `lookup()`. `fit()` adjusts settings
that a model does not take. Nothing else in the add-on hard-codes a model fact.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

STANDARD_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTREME_RATIOS = ("1:4", "4:1", "1:8", "8:1")
WIDE_RATIOS = STANDARD_RATIOS + EXTREME_RATIOS
SIZE_ORDER = ("512", "1K", "2K", "4K")           # every size tier any model takes, small first
PRICES_CHECKED = "2026-11"   # USD; Google's price list for GA models, "~" = third-party estimate
SPEEDS = ("FAST", "BEST")    # the artist's thinking choice; mapped per model below


@dataclass(frozen=True)
class ModelInfo:
    id: str
    label: str
    description: str
    aspect_ratios: tuple[str, ...] = STANDARD_RATIOS
    # Size tiers sent as imageConfig.imageSize; empty = the model takes no size (1K only).
    image_sizes: tuple[str, ...] = ()
    max_reference_images: int = 3
    # Artist's choice (FAST / BEST) -> thinkingConfig.thinkingLevel; empty = send none.
    thinking_levels: dict[str, str] = field(default_factory=dict)
    # USD per output image, by size tier ("" = the model's only size). None = unknown.
    price_per_image: dict[str, float] = field(default_factory=dict)
    price_estimated: bool = False        # third-party figure, not Google's price list
    # USD per 1M input tokens (prompt text + input images).
    price_per_million_input: float | None = None
    input_tokens_per_image: int = 258
    typical_seconds: dict[str, float] = field(default_factory=lambda: {"": 12.0})
    released: str = ""                   # GA date (YYYY-MM-DD)
    retired: str = ""                    # shutdown date; "" = live
    known: bool = True                   # False: an id the catalog has no facts for

    def price(self, size: str | None) -> float | None:
        if not self.price_per_image:
            return None
        key = size if size in self.price_per_image else ""
        if key not in self.price_per_image:
            key = next(iter(self.price_per_image))
        return self.price_per_image[key]

    def expected_seconds(self, size: str | None) -> float:
        return self.typical_seconds.get(size or "", self.typical_seconds.get("", 15.0))

    def supports_size(self, size: str | None) -> bool:
        return bool(size) and size in self.image_sizes

    @property
    def sizes(self) -> tuple[str, ...]:
        """The tiers the artist can choose: the model's, or its single 1K size."""
        return self.image_sizes or ("1K",)

    @property
    def number(self) -> int:
        """Stable enum number for Blender (the same id always gets the same number)."""
        return enum_number(self.id)


_FLASH_LEVELS = {"FAST": "MINIMAL", "BEST": "HIGH"}

CATALOG: tuple[ModelInfo, ...] = (
    ModelInfo(
        id="gemini-nano-banana-2.1",
        label="Nano Banana 2.1",
        description="Default: fast, 1K/2K/4K, extreme ratios, up to 14 reference images",
        aspect_ratios=WIDE_RATIOS,
        image_sizes=("1K", "2K", "4K"),
        max_reference_images=14,
        thinking_levels=_FLASH_LEVELS,
        price_per_image={"1K": 0.034, "2K": 0.050, "4K": 0.113},
        price_estimated=True,
        price_per_million_input=0.50,
        typical_seconds={"": 10.0, "1K": 10.0, "2K": 14.0, "4K": 22.0},
        released="2026-10-06",
    ),
    ModelInfo(
        id="gemini-3-pro-image",
        label="Nano Banana Pro",
        description="Reasoning model: best text and detail, 1K/2K/4K, up to 14 references",
        image_sizes=("1K", "2K", "4K"),
        max_reference_images=14,
        price_per_image={"1K": 0.134, "2K": 0.134, "4K": 0.24},
        price_per_million_input=2.00,
        input_tokens_per_image=560,
        typical_seconds={"": 25.0, "1K": 25.0, "2K": 30.0, "4K": 45.0},
        released="2026-05-28",
    ),
    ModelInfo(
        id="gemini-3.1-flash-lite-image",
        label="Nano Banana 2 Lite",
        description="Cheapest and quickest; 1K only; the original Nano Banana's successor",
        aspect_ratios=WIDE_RATIOS,
        max_reference_images=14,
        thinking_levels=_FLASH_LEVELS,
        price_per_image={"": 0.034},
        price_estimated=True,
        price_per_million_input=0.25,
        typical_seconds={"": 8.0},
        released="2026-06-30",
    ),
    # Retired models keep their facts: old history entries, saved scenes and their costs.
    ModelInfo(
        id="gemini-3.1-flash-image",
        label="Nano Banana 2",
        description="Flash speed with 512/1K/2K/4K tiers and extreme aspect ratios",
        aspect_ratios=WIDE_RATIOS,
        image_sizes=("512", "1K", "2K", "4K"),
        max_reference_images=14,
        thinking_levels=_FLASH_LEVELS,
        # 747 / 1120 / 1680 / 2520 output tokens per image at $60 per 1M output tokens.
        price_per_image={"512": 0.045, "1K": 0.067, "2K": 0.101, "4K": 0.151},
        price_per_million_input=0.50,
        typical_seconds={"": 12.0, "512": 8.0, "1K": 12.0, "2K": 16.0, "4K": 25.0},
        released="2026-05-28",
        retired="2026-10-29",
    ),
    ModelInfo(
        id="gemini-2.5-flash-image",
        label="Nano Banana",
        description="The original Nano Banana; 1K only, up to 3 input images",
        max_reference_images=3,
        price_per_image={"": 0.039},
        price_per_million_input=0.30,
        typical_seconds={"": 10.0},
        released="2025-10-02",
        retired="2026-10-02",
    ),
    ModelInfo(
        id="gemini-3-pro-image-preview",
        label="Nano Banana Pro (preview)",
        description="Preview of Nano Banana Pro",
        image_sizes=("1K", "2K", "4K"),
        max_reference_images=14,
        price_per_image={"1K": 0.134, "2K": 0.134, "4K": 0.24},
        price_per_million_input=2.00,
        typical_seconds={"": 25.0, "1K": 25.0, "2K": 30.0, "4K": 45.0},
        retired="2026-06-25",
    ),
    ModelInfo(
        id="gemini-3.1-flash-image-preview",
        label="Nano Banana 2 (preview)",
        description="Preview of Nano Banana 2",
        aspect_ratios=WIDE_RATIOS,
        image_sizes=("512", "1K", "2K", "4K"),
        max_reference_images=14,
        price_per_image={"512": 0.045, "1K": 0.067, "2K": 0.101, "4K": 0.151},
        price_per_million_input=0.50,
        typical_seconds={"": 12.0, "512": 8.0, "1K": 12.0, "2K": 16.0, "4K": 25.0},
        retired="2026-06-25",
    ),
)

DEFAULT_MODEL = "gemini-nano-banana-2.1"
QUOTA_FALLBACK = "gemini-3.1-flash-lite-image"   # cheapest live model: offered when quota runs out

# Retired or renamed id -> the id that replaced it. Followed to the end by `successor()`,
# so a chain (preview -> GA -> retired -> 2.1) always lands on a live model.
REPLACEMENTS: dict[str, str] = {
    "gemini-2.5-flash-image": "gemini-3.1-flash-lite-image",
    "gemini-3-pro-image-preview": "gemini-3-pro-image",
    "gemini-3.1-flash-image-preview": "gemini-3.1-flash-image",
    "gemini-3.1-flash-image": "gemini-nano-banana-2.1",
    "gemini-2.5-flash-image-preview": "gemini-2.5-flash-image",
    "gemini-2.0-flash-preview-image-generation": "gemini-2.5-flash-image",
    "gemini-2.0-flash-exp-image-generation": "gemini-2.5-flash-image",
}

# Enum numbers that add-on 0.1 stored in .blend files before the model was kept as text.
LEGACY_ENUM = {0: "gemini-2.5-flash-image", 1: "gemini-3-pro-image-preview",
               2: "gemini-3.1-flash-image-preview"}

_BY_ID = {m.id: m for m in CATALOG}
LIVE: tuple[ModelInfo, ...] = tuple(m for m in CATALOG if not m.retired)


def enum_number(model_id: str) -> int:
    """A stable, positive enum number for any id (Blender stores enums as numbers)."""
    return 1 + zlib.crc32(model_id.encode("utf-8")) % 2_000_000_000


def lookup(model_id: str) -> ModelInfo:
    """Catalog entry for an id; unknown ids get safe defaults (standard ratios, no size
    tier, 3 references, no thinking level, unknown price)."""
    model_id = model_id.strip()
    if model_id in _BY_ID:
        return _BY_ID[model_id]
    retired = "retired" if model_id in REPLACEMENTS else ""
    return ModelInfo(id=model_id, label=model_id, description="Not in the add-on's catalog: "
                     "safe defaults (standard ratios, 1K, 3 reference images)",
                     retired=retired, known=False)


def is_retired(model_id: str) -> bool:
    return bool(lookup(model_id).retired)


def successor(model_id: str) -> str | None:
    """The live model that replaced a retired id (following the chain), or None."""
    seen = {model_id.strip()}
    current = REPLACEMENTS.get(model_id.strip())
    while current is not None and current not in seen:
        if not is_retired(current):
            return current
        seen.add(current)
        current = REPLACEMENTS.get(current)
    return None


def replacement_for(model_id: str) -> str | None:
    return successor(model_id)


def label_of(model_id: str) -> str:
    return lookup(model_id).label


def is_image_model(model_id: str, methods: list[str] | tuple[str, ...] | None) -> bool:
    """Whether a listed model makes images through generateContent (live discovery)."""
    mid = model_id.lower()
    if methods is not None and "generateContent" not in methods:
        return False
    return mid.startswith("gemini") and ("image" in mid or "banana" in mid)


def nearest_size(info: ModelInfo, size: str | None) -> str:
    """The model's tier closest to `size` (ties go to the smaller, cheaper one)."""
    sizes = info.sizes
    if size in sizes:
        return size or sizes[0]
    want = SIZE_ORDER.index(size) if size in SIZE_ORDER else 1
    return min(sizes, key=lambda s: (abs(SIZE_ORDER.index(s) - want), SIZE_ORDER.index(s)))


def nearest_ratio(info: ModelInfo, ratio: str | None) -> str | None:
    """The model's ratio closest to `ratio` in log space (None / AUTO stay as they are)."""
    if not ratio or ratio == "AUTO" or ratio in info.aspect_ratios:
        return ratio
    from .images import nearest_aspect_ratio  # stdlib-only at import (Pillow loads lazily)
    a, b = (int(x) for x in ratio.split(":"))
    return nearest_aspect_ratio(a, b, info.aspect_ratios)


@dataclass(frozen=True)
class Fitted:
    """Settings made valid for a model, and the words that say what changed."""
    aspect_ratio: str | None
    image_size: str
    references: int
    thinking: str | None
    changes: tuple[str, ...] = ()


def fit(model_id: str, aspect_ratio: str | None, image_size: str | None, references: int,
        speed: str | None = None) -> Fitted:
    """Adjust a ratio, size tier, reference count and speed to what the model takes."""
    info = lookup(model_id)
    changes = []
    ratio = nearest_ratio(info, aspect_ratio)
    if ratio != aspect_ratio:
        changes.append(f"aspect ratio {aspect_ratio} → {ratio}")
    size = nearest_size(info, image_size)
    if image_size and size != image_size:
        changes.append(f"size {image_size} → {size}")
    refs = min(references, info.max_reference_images)
    if refs != references:
        changes.append(f"only the first {refs} of {references} reference images are sent")
    thinking = info.thinking_levels.get(speed or "") if speed else None
    return Fitted(ratio, size, refs, thinking, tuple(changes))


def estimate_cost(model_id: str, size: str | None, variations: int = 1,
                  input_images: int = 0) -> float | None:
    """USD estimate for a request before it is sent (None when the price is unknown)."""
    info = lookup(model_id)
    per_image = info.price(size if info.supports_size(size) else None)
    if per_image is None:
        return None
    inputs = 0.0
    if info.price_per_million_input is not None:
        tokens = 200 + input_images * info.input_tokens_per_image
        inputs = tokens * info.price_per_million_input / 1e6
    return round(variations * (per_image + inputs), 4)


def actual_cost(model_id: str, size: str | None, images_out: int, prompt_tokens: int) -> float | None:
    """USD for a finished request from its reported usage."""
    info = lookup(model_id)
    per_image = info.price(size if info.supports_size(size) else None)
    if per_image is None:
        return None
    inputs = prompt_tokens * (info.price_per_million_input or 0.0) / 1e6
    return round(images_out * per_image + inputs, 4)


def ratio_mismatch(requested: str | None, width: int, height: int, tolerance: float = 0.04) -> bool:
    """True when an image of width x height is clearly not the requested aspect ratio."""
    if not requested or requested == "AUTO" or width <= 0 or height <= 0:
        return False
    a, b = (int(x) for x in requested.split(":"))
    return abs((width / height) / (a / b) - 1.0) > tolerance


# The Gemini Batch API bills half the interactive price, image models included (Google's
# price list, checked 2026-11). Used for the estimate shown before a batch and for the cost
# recorded with each batch result.
BATCH_PRICE_FACTOR = 0.5


def batch_price(cost_usd: float | None) -> float | None:
    """An interactive price -> the same work's price through the Batch API."""
    return None if cost_usd is None else round(cost_usd * BATCH_PRICE_FACTOR, 4)
