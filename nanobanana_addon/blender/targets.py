"""Where a result lands: typed result targets (main thread only).

A job carries one Target from the operator that made it. When the job is done, the pump
packs the images (apply.packed_image) and calls `target.place(images)`; the target wires
them into Blender through `apply.py` and returns nothing, or raises to undo the result.
A new destination (projection, bake, PBR set, …) is a new subclass here, never a new
branch in the pump. Targets hold names and plain values only, so they stay valid while
the artist works, and they say what Refine on their result continues into.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import bpy

from . import apply

if TYPE_CHECKING:
    from ..core.pipeline import Outcome
    from ..core.request import GenerationRequest


@dataclass(frozen=True)
class Target:
    """Base: the image is only created (shown in open Image Editors)."""

    @property
    def colorspace(self) -> str | None:
        """The colour space the result image should be tagged with (None: Blender's)."""
        return None

    def place(self, images: list[bpy.types.Image]) -> None:
        apply.show_in_image_editors(images[0])

    def for_refine(self) -> Target:
        """Where a refinement of this result goes: by default, an image of its own."""
        return ImageOnly()

    def work(self, request: GenerationRequest, cancel: threading.Event,
             run: Callable[[GenerationRequest, threading.Event], Outcome]) -> Outcome:
        """What the job's worker thread does: by default `run(request, cancel)` (call
        Gemini, save to history). A target may run several requests or prepare its
        result here (NumPy on plain values it captured; never bpy: this is a worker)."""
        return run(request, cancel)


@dataclass(frozen=True)
class ImageOnly(Target):
    """Only the image, kept in the .blend (fake user) and shown in Image Editors, tagged
    with the colour space of the image it was edited from, if any."""
    source_colorspace: str = ""

    @property
    def colorspace(self) -> str | None:
        return self.source_colorspace or None

    def for_refine(self) -> Target:
        return self


@dataclass(frozen=True)
class NewMaterial(Target):
    """A new material with the first image as Base Color, on the named objects."""
    objects: tuple[str, ...] = ()

    def place(self, images: list[bpy.types.Image]) -> None:
        img = images[0]
        mat = apply.new_material(img.name, img)
        apply.assign_material(mat, [o for o in map(bpy.data.objects.get, self.objects) if o])
        super().place(images)


@dataclass(frozen=True)
class ReplaceNode(Target):
    """The image goes on the same Image Texture node; the original is kept for revert.
    Refining continues on that node."""
    material: str
    node: str
    original_colorspace: str = ""

    @property
    def colorspace(self) -> str | None:
        return self.original_colorspace or None

    def place(self, images: list[bpy.types.Image]) -> None:
        mat = bpy.data.materials.get(self.material)
        if mat is not None and mat.node_tree and self.node in mat.node_tree.nodes:
            apply.put_on_node(mat, self.node, images[0])
        super().place(images)

    def for_refine(self) -> Target:
        return self
