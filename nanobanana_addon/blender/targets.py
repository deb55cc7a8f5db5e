"""Where a result lands: typed result targets (main thread only).

A job carries one Target from the operator that made it. When the job is done, the pump
packs the images (apply.packed_image) and calls `target.place(images)`; the target wires
them into Blender through `apply.py` and returns nothing, or raises to undo the result.
A new destination (projection, bake, PBR set, …) is a new subclass here, never a new
branch in the pump. Targets hold names and plain values only, so they stay valid while
the artist works, and they say what Refine on their result continues into.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import bpy

from ..core import errors

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

    def place(self, images: list[bpy.types.Image]) -> str | None:
        """Wire the packed images into Blender; return a note for the status, or None."""
        from . import apply
        apply.show_in_image_editors(images[0])
        return None

    def landed_count(self, packed: int) -> int:
        """How many results the status line counts: the images packed (a sequence counts
        its frames, written as files, not the one image it packs)."""
        return packed

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
    """A new material with the first image as Base Color, on the objects selected when
    the job started (found again by a reference stored on them: renames do not matter). A
    seamless texture, or any object without UVs, gets Object coordinates -> Mapping
    (1 / tile size) -> box projection (materials.add_object_mapping) instead of UVs."""
    objects: tuple[str, ...] = ()     # apply.stable_ref() of each object
    seamless: bool = False
    tile_size: float = 1.0            # metres one tile covers (scene.nanobanana.tile_size)

    @classmethod
    def for_objects(cls, objects, seamless: bool = False, tile_size: float = 1.0) -> NewMaterial:
        from . import apply
        return cls(tuple(apply.stable_ref(o) for o in objects), seamless, tile_size)

    def place(self, images: list[bpy.types.Image]) -> str | None:
        from . import apply, materials, variation_pick
        if variation_pick.hold(self, images):       # 2+ variations: the artist picks one first
            return None
        img = images[0]
        found = [o for o in (apply.resolve(bpy.data.objects, ref) for ref in self.objects) if o]
        mat = apply.new_material(img.name, img)
        if self.seamless or not all(materials.has_uvs(o) for o in found):
            tex = next(n for n in mat.node_tree.nodes if n.type == "TEX_IMAGE" and n.image == img)
            materials.add_object_mapping(mat, tex, self.tile_size)
        apply.assign_material(mat, found)
        super().place(images)
        if self.objects and not found:
            return errors.targets_gone(mat.name)
        return None


@dataclass(frozen=True)
class ReplaceNode(Target):
    """The image goes on the same Image Texture node; the original is kept for revert.
    Refining continues on that node."""
    material: str                     # apply.stable_ref() of the material
    node: str
    original_colorspace: str = ""

    @property
    def colorspace(self) -> str | None:
        return self.original_colorspace or None

    def place(self, images: list[bpy.types.Image]) -> str | None:
        from . import apply, variation_pick
        if variation_pick.hold(self, images):       # 2+ variations: the artist picks one first
            return None
        mat = apply.resolve(bpy.data.materials, self.material)
        super().place(images)
        if mat is None or not mat.node_tree or self.node not in mat.node_tree.nodes:
            return errors.node_gone(images[0].name)
        apply.put_on_node(mat, self.node, images[0])
        return None

    def for_refine(self) -> Target:
        return self


@dataclass(frozen=True)
class PbrSet(Target):
    """Height, normal, roughness (and AO) maps of a texture, in that order (core/material_maps.py),
    packed as Non-Color images and wired into the material of the texture's node
    (materials.wire_pbr). From an Image Editor (no material) they are only created."""
    material: str = ""
    node: str = ""
    source: str = ""                # the texture's name: the maps are named after it

    @property
    def colorspace(self) -> str | None:
        return "Non-Color"

    def place(self, images: list[bpy.types.Image]) -> None:
        from ..core.material_maps import MAP_ORDER
        from . import apply, materials
        maps = dict(zip(MAP_ORDER, images, strict=False))
        mat = bpy.data.materials.get(self.material)
        if mat is None or mat.node_tree is None or self.node not in mat.node_tree.nodes:
            mat = None
        if mat is not None:
            materials.remove_previous_set(mat)      # first, so the new maps get the plain names
        for kind, img in maps.items():
            img.name = f"{self.source} {kind}"
        if mat is not None:
            materials.wire_pbr(mat, self.node, maps)
        else:       # from the Image Editor: show the set there (a material's editor keeps its image)
            apply.show_in_image_editors(maps.get("normal", images[0]))


def _extension(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".png"


@dataclass(frozen=True)
class WriteFiles(ImageOnly):
    """The command line's target: the image is kept like ImageOnly and each one is also
    written to `folder` as `<stem>.<ext>` (`<stem>_2.<ext>`, ... for variations), byte for
    byte what Gemini sent, never over an existing file. An empty folder writes nothing.
    The paths written are appended to `written`, which the caller reads afterwards."""
    folder: str = ""
    stem: str = "nanobanana"
    written: list[str] = field(default_factory=list, compare=False, hash=False)

    def place(self, images: list[bpy.types.Image]) -> None:
        if self.folder:
            os.makedirs(self.folder, exist_ok=True)
            for k, img in enumerate(images):
                packed: bytes = img.packed_file.data if img.packed_file else b""  # type: ignore[assignment]  # stub says str
                data = bytes(packed)
                if not data:
                    continue
                base = self.stem if k == 0 else f"{self.stem}_{k + 1}"
                path = _free_path(os.path.join(self.folder, base), _extension(data))
                with open(path, "xb") as fh:
                    fh.write(data)
                self.written.append(path)
        super().place(images)

    def for_refine(self) -> Target:
        return ImageOnly(self.source_colorspace)


def _free_path(base: str, ext: str) -> str:
    path, n = base + ext, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}{ext}"
    return path
