"""The model catalog, as data: every fact about a Gemini image model lives here.

Ids, labels, aspect ratios, size tiers, reference-image limits, prices (dated), typical
latency (for the progress estimate) and replacements for retired ids. Unknown ids typed
by the user get safe defaults from `lookup()`. Nothing else in the add-on hard-codes a
model fact.
"""
from __future__ import annotations

from dataclasses import dataclass, field

STANDARD_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTREME_RATIOS = ("1:4", "4:1", "1:8", "8:1")
PRICES_CHECKED = "2025-11"  # public list prices in USD; confirm at ai.google.dev/pricing


@dataclass(frozen=True)
class ModelInfo:
    id: str
    label: str
    description: str
    aspect_ratios: tuple[str, ...] = STANDARD_RATIOS
    # Size tiers sent as imageConfig.imageSize; empty = the model takes no size (1K only).
    image_sizes: tuple[str, ...] = ()
    max_reference_images: int = 3
    thinking: bool = False
    # USD per output image, by size tier ("" = the model's only size). None = unknown.
    price_per_image: dict[str, float] = field(default_factory=dict)
    # USD per 1M input tokens (prompt text + input images).
    price_per_million_input: float | None = None
    input_tokens_per_image: int = 258
    typical_seconds: dict[str, float] = field(default_factory=lambda: {"": 12.0})
    preview: bool = False
    known: bool = True

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


CATALOG: tuple[ModelInfo, ...] = (
    ModelInfo(
        id="gemini-2.5-flash-image",
        label="Nano Banana",
        description="Fast and inexpensive; 1K output; best with up to 3 input images",
        max_reference_images=3,
        price_per_image={"": 0.039},
        price_per_million_input=0.30,
        typical_seconds={"": 10.0},
    ),
    ModelInfo(
        id="gemini-3-pro-image-preview",
        label="Nano Banana Pro",
        description="Reasoning model: 1K/2K/4K, up to 14 reference images, best text",
        image_sizes=("1K", "2K", "4K"),
        max_reference_images=14,
        thinking=True,
        price_per_image={"1K": 0.134, "2K": 0.134, "4K": 0.24},
        price_per_million_input=2.00,
        typical_seconds={"": 25.0, "1K": 25.0, "2K": 30.0, "4K": 45.0},
        preview=True,
    ),
    ModelInfo(
        id="gemini-3.1-flash-image-preview",
        label="Nano Banana 2",
        description="Flash speed with size tiers and extreme aspect ratios (preview)",
        aspect_ratios=STANDARD_RATIOS + EXTREME_RATIOS,
        image_sizes=("512", "1K", "2K", "4K"),
        max_reference_images=14,
        thinking=True,
        # 747 / 1120 / 1680 / 2520 output tokens per image (Google Cloud model page) at
        # $60 per 1M output tokens.
        price_per_image={"512": 0.045, "1K": 0.067, "2K": 0.101, "4K": 0.151},
        price_per_million_input=0.50,
        typical_seconds={"": 12.0, "512": 8.0, "1K": 12.0, "2K": 16.0, "4K": 25.0},
        preview=True,
    ),
)

DEFAULT_MODEL = CATALOG[0].id

# Retired or renamed ids -> the id to use instead (offered when the API answers 404).
# Google announced GA ids for the two preview models in 2026 (Vertex AI model pages).
REPLACEMENTS: dict[str, str] = {
    "gemini-3-pro-image-preview": "gemini-3-pro-image",
    "gemini-3.1-flash-image-preview": "gemini-3.1-flash-image",
    "gemini-2.5-flash-image-preview": "gemini-2.5-flash-image",
    "gemini-2.0-flash-preview-image-generation": "gemini-2.5-flash-image",
    "gemini-2.0-flash-exp-image-generation": "gemini-2.5-flash-image",
}

_BY_ID = {m.id: m for m in CATALOG}


def lookup(model_id: str) -> ModelInfo:
    """Catalog entry for an id; unknown ids get conservative defaults (no size, 3 refs)."""
    model_id = model_id.strip()
    if model_id in _BY_ID:
        return _BY_ID[model_id]
    return ModelInfo(id=model_id, label=model_id, description="Model not in the catalog",
                     known=False)


def replacement_for(model_id: str) -> str | None:
    return REPLACEMENTS.get(model_id.strip())


def label_of(model_id: str) -> str:
    return lookup(model_id).label


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
