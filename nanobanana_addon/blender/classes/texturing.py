"""Declarations of the texturing operators (names, tooltips) and the 3D View header hook of
the sliced capture; their code is `blender/texturing.py` and
`blender/texture_capture_steps.py`, loaded on the first call. The header hook is a stub
that costs a dict lookup per redraw: it draws through texture_capture_steps only when that
module is loaded and a capture is running (it cannot be running before it is loaded)."""

import bpy

from ..lazy import behaviour, loaded

_SUBMIT = ("poll", "execute")


@behaviour("texturing:TextureFromView", *_SUBMIT)
class NANOBANANA_OT_texture_from_view(bpy.types.Operator):
    """Paint the selected meshes as the prompt says, seen from this view (the viewport, or
    the active camera), and bake the result into their UV maps"""
    bl_idname = "nanobanana.texture_from_view"
    bl_label = "Texture from View"
    bl_options = {"REGISTER"}


@behaviour("texturing:TextureObject", *_SUBMIT, "invoke", "modal", "cancel")
class NANOBANANA_OT_texture_object(bpy.types.Operator):
    """Paint the selected meshes all around: several views (one request each, in one
    style), blended where each sees the surface best and baked into their UV maps"""
    bl_idname = "nanobanana.texture_object"
    bl_label = "Texture All Around"
    bl_options = {"REGISTER"}


@behaviour("texturing:RevertTextureBake", *_SUBMIT)
class NANOBANANA_OT_revert_texture_bake(bpy.types.Operator):
    """Give the selected objects back the materials they had before Nano Banana textured them"""
    bl_idname = "nanobanana.revert_texture_bake"
    bl_label = "Revert Texture"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("texture_capture_steps:CancelTextureCapture", *_SUBMIT)
class NANOBANANA_OT_cancel_texture_capture(bpy.types.Operator):
    """Stop capturing the views: nothing is sent"""
    bl_idname = "nanobanana.cancel_texture_capture"
    bl_label = "Cancel Capture"


def draw_capture_header(self, context) -> None:
    """VIEW3D_HT_header: progress and cancel while views are captured (nothing to draw, and
    nothing imported, until texture_capture_steps is loaded and has a capture running)."""
    steps = loaded("blender.texture_capture_steps")
    if steps is not None and steps.ACTIVE:
        steps.draw_header(self, context)


def register() -> None:
    bpy.types.VIEW3D_HT_header.append(draw_capture_header)


def unregister() -> None:
    bpy.types.VIEW3D_HT_header.remove(draw_capture_header)
    steps = loaded("blender.texture_capture_steps")
    if steps is not None:
        steps.ACTIVE.clear()


CLASSES = (NANOBANANA_OT_texture_from_view, NANOBANANA_OT_texture_object,
           NANOBANANA_OT_revert_texture_bake, NANOBANANA_OT_cancel_texture_capture)
