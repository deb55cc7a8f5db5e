"""Masks for masked edits (main thread): make a black mask the size of the image being
edited and open it for painting with Blender's own brushes, clear, invert, fill a
rectangle, or draw a lasso around the area in the Image Editor (the polygon is filled
by core/masking.paint_polygon). White = change. The edit itself reads
`scene.nanobanana.mask_image` (intents.py) and composites on the worker
(core/masked_edit.py). Every tool needs NumPy: numpy_guard says so when it is missing.

The registered operators are declared in classes/masks.py; the plain classes here hold
their code (lazy.py copies it over on the first poll or call)."""
from __future__ import annotations

from typing import Any

import bpy

from ..core import errors
from .numpy_guard import needs_numpy
from .numpy_guard import poll as numpy_poll


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
    """The tools that change an existing mask: NumPy and a mask are needed."""

    @classmethod
    def poll(cls, context):
        if not numpy_poll(cls):
            return False
        if context.scene.nanobanana.mask_image is None:
            cls.poll_message_set("No mask yet: press New Mask")
            return False
        return True


class MaskNew:
    @classmethod
    def poll(cls, context):
        return numpy_poll(cls)

    @needs_numpy
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


class MaskClear(_MaskOp):
    @needs_numpy
    def execute(self, context):
        _fill(context.scene.nanobanana.mask_image, lambda px: px.__setitem__((..., slice(0, 3)), 0.0))
        return {"FINISHED"}


class MaskInvert(_MaskOp):
    @needs_numpy
    def execute(self, context):
        _fill(context.scene.nanobanana.mask_image, lambda px: px.__setitem__((..., slice(0, 3)), 1.0 - px[..., :3]))
        return {"FINISHED"}


class MaskRectangle(_MaskOp):
    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self)

    @needs_numpy
    def execute(self, context):
        img = context.scene.nanobanana.mask_image
        w, h = img.size
        x0, x1 = sorted((round(self.corner_min[0] * w), round(self.corner_max[0] * w)))
        y0, y1 = sorted((round(self.corner_min[1] * h), round(self.corner_max[1] * h)))

        def rect(px):
            px[y0:y1, x0:x1, :3] = 1.0
        _fill(img, rect)
        return {"FINISHED"}


LASSO_MIN_STEP_PX = 3     # mouse moves shorter than this add no point
LASSO_COLOUR = (1.0, 0.2, 0.9, 1.0)


class MaskLasso(_MaskOp):
    """`self.path`: points in image fractions from the bottom left (the Image Editor's view
    coordinates); `self.subtract`: paint black (keep) instead of white."""

    @needs_numpy
    def execute(self, context):
        from ..core import masking
        points = [tuple(p.loc) for p in self.path]
        try:
            if len(points) < 3:
                raise errors.mask_lasso_too_small()
            value = 0.0 if self.subtract else 1.0
            _fill(context.scene.nanobanana.mask_image, lambda px: masking.paint_polygon(px, points, value))
        except errors.NanoBananaError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}

    @needs_numpy
    def invoke(self, context, event):
        area = _image_editor(context)
        if area is None:
            self.report({"ERROR"}, str(errors.mask_lasso_no_editor()))
            return {"CANCELLED"}
        space = area.spaces.active
        if space.image is None:
            space.image = context.scene.nanobanana.mask_image
        self._area = area
        self._region = next(r for r in area.regions if r.type == "WINDOW")
        self.path.clear()
        self._screen = []          # region pixels, for drawing
        self._drawing = False
        self._handle = bpy.types.SpaceImageEditor.draw_handler_add(_draw_lasso, (self,), "WINDOW", "POST_PIXEL")
        area.header_text_set(errors.mask_lasso_hint())
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _local(self, event) -> tuple[int, int]:
        return event.mouse_x - self._region.x, event.mouse_y - self._region.y

    def _inside(self, event) -> bool:
        x, y = self._local(event)
        return 0 <= x < self._region.width and 0 <= y < self._region.height

    def _add(self, event) -> None:
        x, y = self._local(event)
        if self._screen:
            px, py = self._screen[-1]
            if (x - px) ** 2 + (y - py) ** 2 < LASSO_MIN_STEP_PX ** 2:
                return
        self._screen.append((x, y))
        self.path.add().loc = self._region.view2d.region_to_view(x, y)

    def _end(self) -> None:
        bpy.types.SpaceImageEditor.draw_handler_remove(self._handle, "WINDOW")
        self._area.header_text_set(None)
        self._area.tag_redraw()

    def modal(self, context, event):
        if event.type in {"ESC", "RIGHTMOUSE"} or (
                event.type == "LEFTMOUSE" and event.value == "PRESS" and not self._inside(event)):
            self._end()
            return {"CANCELLED"}
        if event.type == "LEFTMOUSE" and event.value == "PRESS":
            self._drawing, self.subtract = True, bool(event.ctrl)
            self._add(event)
        elif event.type in {"MOUSEMOVE", "INBETWEEN_MOUSEMOVE"} and self._drawing:
            self._add(event)
        elif event.type == "LEFTMOUSE" and event.value == "RELEASE" and self._drawing:
            self._end()
            return self.execute(context)
        elif not self._drawing:
            return {"PASS_THROUGH"}         # navigate (zoom, pan) before drawing
        self._area.tag_redraw()
        return {"RUNNING_MODAL"}


def _image_editor(context):
    """The Image Editor the lasso is drawn in: this one, else the first in the window."""
    if context.area is not None and context.area.type == "IMAGE_EDITOR":
        return context.area
    screen = context.screen
    return next((a for a in screen.areas if a.type == "IMAGE_EDITOR"), None) if screen else None


def _draw_lasso(op) -> None:
    """The lasso so far, closed back to its start (region pixels)."""
    if len(op._screen) < 2:
        return
    import gpu
    from gpu_extras.batch import batch_for_shader
    shader: Any = gpu.shader.from_builtin("UNIFORM_COLOR")  # type: ignore[func-returns-value]  # stub says None
    batch = batch_for_shader(shader, "LINE_STRIP", {"pos": [*op._screen, op._screen[0]]})
    gpu.state.line_width_set(2.0)
    shader.uniform_float("color", LASSO_COLOUR)
    batch.draw(shader)
    gpu.state.line_width_set(1.0)

