"""Masks for masked edits (main thread): make a black mask the size of the image being
edited and open it for painting with Blender's own brushes, clear, invert, or fill a
rectangle. White = change. The edit itself reads `scene.nanobanana.mask_image`
(intents.py) and composites on the worker (core/masked_edit.py)."""
from __future__ import annotations

import bpy
from bpy.props import FloatVectorProperty

from ..core import errors


def _edited_size(context) -> tuple[int, int, str]:
    """(width, height, name) of what an edit would send: the active texture, else the render."""
    from . import capture
    try:
        img, _mat, _node = capture.active_texture(context)
        if img.size[0] and img.size[1]:
            return img.size[0], img.size[1], img.name
    except errors.NanoBananaError:
        pass
    r = context.scene.render
    return (r.resolution_x * r.resolution_percentage // 100,
            r.resolution_y * r.resolution_percentage // 100, "Render")


def _fill(img: bpy.types.Image, fn) -> None:
    import numpy as np
    w, h = img.size
    flat = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(flat)
    px = flat.reshape(h, w, 4)
    fn(px)
    px[..., 3] = 1.0
    img.pixels.foreach_set(px.ravel())
    img.update()


class _MaskOp:
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if context.scene.nanobanana.mask_image is None:
            cls.poll_message_set("No mask yet: press New Mask")
            return False
        return True


class NANOBANANA_OT_mask_new(bpy.types.Operator):
    """Make a black mask the size of the image to edit and open it for painting (white = change)"""
    bl_idname = "nanobanana.mask_new"
    bl_label = "New Mask"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        w, h, name = _edited_size(context)
        img = bpy.data.images.new(f"{name} mask", w, h, alpha=False)
        img.generated_color = (0.0, 0.0, 0.0, 1.0)
        img.colorspace_settings.name = "Non-Color"
        img.use_fake_user = True
        s = context.scene.nanobanana
        s.mask_image, s.use_mask = img, True
        for area in context.screen.areas if context.screen else ():
            if area.type == "IMAGE_EDITOR":
                space = area.spaces.active
                space.image = img
                space.mode = "PAINT"          # paint white where the edit may change pixels
                area.tag_redraw()
                break
        self.report({"INFO"}, f"Paint white on '{img.name}' where the edit may change the image")
        return {"FINISHED"}


class NANOBANANA_OT_mask_clear(_MaskOp, bpy.types.Operator):
    """Make the whole mask black (nothing will change)"""
    bl_idname = "nanobanana.mask_clear"
    bl_label = "Clear Mask"

    def execute(self, context):
        _fill(context.scene.nanobanana.mask_image, lambda px: px.__setitem__((..., slice(0, 3)), 0.0))
        return {"FINISHED"}


class NANOBANANA_OT_mask_invert(_MaskOp, bpy.types.Operator):
    """Swap the areas to change and to keep"""
    bl_idname = "nanobanana.mask_invert"
    bl_label = "Invert Mask"

    def execute(self, context):
        _fill(context.scene.nanobanana.mask_image, lambda px: px.__setitem__((..., slice(0, 3)), 1.0 - px[..., :3]))
        return {"FINISHED"}


class NANOBANANA_OT_mask_rectangle(_MaskOp, bpy.types.Operator):
    """Paint a white rectangle into the mask (corners as fractions of the width and height, from the bottom left)"""
    bl_idname = "nanobanana.mask_rectangle"
    bl_label = "Mask Rectangle"
    corner_min: FloatVectorProperty(size=2, min=0.0, max=1.0, default=(0.25, 0.25))  # type: ignore[valid-type]
    corner_max: FloatVectorProperty(size=2, min=0.0, max=1.0, default=(0.75, 0.75))  # type: ignore[valid-type]

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        img = context.scene.nanobanana.mask_image
        w, h = img.size
        x0, x1 = sorted((round(self.corner_min[0] * w), round(self.corner_max[0] * w)))
        y0, y1 = sorted((round(self.corner_min[1] * h), round(self.corner_max[1] * h)))

        def rect(px):
            px[y0:y1, x0:x1, :3] = 1.0
        _fill(img, rect)
        return {"FINISHED"}


CLASSES = (NANOBANANA_OT_mask_new, NANOBANANA_OT_mask_clear, NANOBANANA_OT_mask_invert,
           NANOBANANA_OT_mask_rectangle)
