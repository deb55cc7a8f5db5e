"""Where a result lands: typed result targets (main thread only).

A job carries one Target from the operator that made it. When the job is done, the pump
packs the images (apply.packed_image) and calls `target.place(images)`; the target wires
them into Blender through `apply.py` and returns nothing, or raises to undo the result.
A new destination (projection, bake, PBR set, …) is a new subclass here, never a new
branch in the pump. Targets hold names and plain values only, so they stay valid while
the artist works, and they say what Refine on their result continues into.
"""
from __future__ import annotations

from dataclasses import dataclass

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
    """A new material with the first image as Base Color, on the named objects. A seamless
    texture, or any object without UVs, gets Object coordinates -> Mapping (1 / tile size)
    -> box projection (materials.add_object_mapping) instead of the UV lookup."""
    objects: tuple[str, ...] = ()
    seamless: bool = False
    tile_size: float = 1.0          # metres one tile covers (scene.nanobanana.tile_size)

    def place(self, images: list[bpy.types.Image]) -> None:
        from . import materials
        img = images[0]
        objects = [o for o in map(bpy.data.objects.get, self.objects) if o]
        mat = apply.new_material(img.name, img)
        if self.seamless or not all(materials.has_uvs(o) for o in objects):
            tex = next(n for n in mat.node_tree.nodes if n.type == "TEX_IMAGE" and n.image == img)
            materials.add_object_mapping(mat, tex, self.tile_size)
        apply.assign_material(mat, objects)
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
        from . import materials
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
