"""Declarations of the variation pick operators (preview before apply, issue 15) and the
file-load handler that forgets what waited in the old file. Their code is
`blender/variation_pick.py`, loaded when a job first lands with variations or one of
these operators is first used; until then nothing can be waiting, so the handler and
disabling need not load it."""

import bpy
from bpy.app.handlers import persistent
from bpy.props import IntProperty

from ..lazy import behaviour, loaded


@behaviour("variation_pick:PickVariation", "execute")
class NANOBANANA_OT_pick_variation(bpy.types.Operator):
    """Apply this variation where the job was meant to go (the others stay in History)"""
    bl_idname = "nanobanana.pick_variation"
    bl_label = "Use This Variation"
    bl_options = {"REGISTER", "UNDO"}
    slot: IntProperty(default=-1, description="Which waiting job (-1: the newest)")  # type: ignore[valid-type]
    index: IntProperty(default=0, min=0, description="Which variation (0: the first)")  # type: ignore[valid-type]


@behaviour("variation_pick:KeepVariations", "execute")
class NANOBANANA_OT_keep_variations(bpy.types.Operator):
    """Apply none of them: the variations stay in the file as images and in History"""
    bl_idname = "nanobanana.keep_variations"
    bl_label = "Keep All as Images"
    slot: IntProperty(default=-1)  # type: ignore[valid-type]


@behaviour("variation_pick:ShowVariations", "invoke", "draw", "execute")
class NANOBANANA_OT_show_variations(bpy.types.Operator):
    """Pick a variation: the thumbnails of the results waiting to be applied"""
    bl_idname = "nanobanana.show_variations"
    bl_label = "Pick a Variation"


CLASSES = (NANOBANANA_OT_pick_variation, NANOBANANA_OT_keep_variations, NANOBANANA_OT_show_variations)


@persistent
def _on_load_post(*_args) -> None:
    module = loaded("blender.variation_pick")
    if module is not None:          # not loaded: no variation ever waited
        module.on_load_post()


def register() -> None:
    bpy.app.handlers.load_post.append(_on_load_post)


def unregister() -> None:
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    module = loaded("blender.variation_pick")
    if module is not None:
        module.release()
