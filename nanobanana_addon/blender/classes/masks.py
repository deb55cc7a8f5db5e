"""Declarations of the mask tools; their code (and the NumPy guard, numpy_guard.py) is
`blender/mask_ops.py`, loaded on the first poll or call."""
import bpy
from bpy.props import BoolProperty, CollectionProperty, FloatVectorProperty

from ..lazy import behaviour


@behaviour("mask_ops:MaskNew", "poll", "execute")
class NANOBANANA_OT_mask_new(bpy.types.Operator):
    """Make a black mask the size of the image to edit and open it for painting (white = change)"""
    bl_idname = "nanobanana.mask_new"
    bl_label = "New Mask"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("mask_ops:MaskClear", "poll", "execute")
class NANOBANANA_OT_mask_clear(bpy.types.Operator):
    """Make the whole mask black (nothing will change)"""
    bl_idname = "nanobanana.mask_clear"
    bl_label = "Clear Mask"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("mask_ops:MaskInvert", "poll", "execute")
class NANOBANANA_OT_mask_invert(bpy.types.Operator):
    """Swap the areas to change and to keep"""
    bl_idname = "nanobanana.mask_invert"
    bl_label = "Invert Mask"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("mask_ops:MaskRectangle", "poll", "invoke", "execute")
class NANOBANANA_OT_mask_rectangle(bpy.types.Operator):
    """Paint a white rectangle into the mask (corners as fractions of the width and height, from the bottom left)"""
    bl_idname = "nanobanana.mask_rectangle"
    bl_label = "Mask Rectangle"
    bl_options = {"REGISTER", "UNDO"}
    corner_min: FloatVectorProperty(size=2, min=0.0, max=1.0, default=(0.25, 0.25))  # type: ignore[valid-type]
    corner_max: FloatVectorProperty(size=2, min=0.0, max=1.0, default=(0.75, 0.75))  # type: ignore[valid-type]


@behaviour("mask_ops:MaskLasso", "poll", "invoke", "modal", "execute")
class NANOBANANA_OT_mask_lasso(bpy.types.Operator):
    """Draw around the area to change in the Image Editor (drag with the left mouse button;
    Ctrl: take the area away from the mask; Esc or right click: cancel). The lasso follows
    the image shown there, so it can be drawn on the texture or render itself"""
    bl_idname = "nanobanana.mask_lasso"
    bl_label = "Mask Lasso"
    bl_options = {"REGISTER", "UNDO"}
    # Points in image fractions from the bottom left (the Image Editor's view coordinates).
    path: CollectionProperty(type=bpy.types.OperatorMousePath, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    subtract: BoolProperty(name="Take Away", default=False,  # type: ignore[valid-type]
                           description="Paint the lasso black (keep) instead of white (change)")


CLASSES = (NANOBANANA_OT_mask_new, NANOBANANA_OT_mask_clear, NANOBANANA_OT_mask_invert,
           NANOBANANA_OT_mask_rectangle, NANOBANANA_OT_mask_lasso)
