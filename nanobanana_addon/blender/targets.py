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
from dataclasses import dataclass, field

import bpy

from . import apply


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
