"""Plain data exchanged between the Blender layer, the jobs and the client.

GenerationRequest goes in; GenerationResult (one per variation) or a typed error comes
out. A conversation (`Turn` list) is kept SDK-independent so a result can be refined
later, with the model's thought signatures carried back unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

ImageRole = Literal["edit", "reference"]


class JobKind(StrEnum):
    """What the artist asked for (also written into history as its value)."""
    GENERATE = "generate"
    EDIT_RENDER = "edit_render"
    EDIT_TEXTURE = "edit_texture"
    REFINE = "refine"
    TEXTURE = "texture"          # a render of the model, painted, projected and baked
    PBR_MAPS = "pbr_maps"           # derived locally (core/material_maps.py), no request sent
    EDIT_SEQUENCE = "edit_sequence"  # one frame of a sequence edit (core/sequence.py)

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class InputImage:
    data: bytes                 # encoded bytes (PNG / JPEG / WebP); b"" when `pixels` is set
    mime_type: str
    role: ImageRole = "reference"
    name: str = ""
    # A copy of Blender pixels (H x W x 4 float32, bottom-up rows), encoded by the worker;
    # `linear`: scene-linear colour to encode to sRGB (False: sRGB bytes or data).
    pixels: Any = None
    linear: bool = False


@dataclass(frozen=True)
class Part:
    text: str | None = None
    data: bytes | None = None
    mime_type: str | None = None
    thought: bool = False
    thought_signature: bytes | None = None


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "model"]
    parts: tuple[Part, ...]


@dataclass
class GenerationRequest:
    model: str
    prompt: str
    images: list[InputImage] = field(default_factory=list)
    aspect_ratio: str | None = None     # "16:9"; None lets the model decide
    image_size: str | None = None       # "1K" / "2K" / "4K"; ignored when unsupported
    variations: int = 1
    history: list[Turn] = field(default_factory=list)   # earlier turns, for refine
    kind: JobKind = JobKind.GENERATE
    seamless: bool = False              # ask for a tileable texture (see wire.SEAMLESS)
    seamless_fix: str = ""              # with seamless: "LOCAL" / "MODEL" makes each result tile
                                        # (core/seamless.py); "" only asks
    thinking_level: str | None = None   # thinkingConfig.thinkingLevel; only models that take one
    mask: Any = None                    # masked_edit.MaskSpec: change only the painted region
    instruction: str | None = None      # text sent instead of `prompt` (the prompt is kept as typed)


@dataclass(frozen=True)
class OutputImage:
    data: bytes
    mime_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return {"image/jpeg": ".jpg", "image/webp": ".webp"}.get(self.mime_type, ".png")


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    thoughts_tokens: int = 0
    total_tokens: int = 0


@dataclass
class GenerationResult:
    model: str
    images: list[OutputImage]
    text: str = ""
    finish_reason: str = ""
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    turns: list[Turn] = field(default_factory=list)   # full conversation incl. this answer
    model_version: str = ""
    elapsed_s: float = 0.0
    attempts: int = 1
    warnings: list[str] = field(default_factory=list)   # e.g. the ratio came back different
