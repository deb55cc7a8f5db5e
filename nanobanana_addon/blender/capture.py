"""Inputs captured on the main thread: a Blender image (its stored bytes, a copy of its
pixels for the worker to encode, or for a large unsaved 8-bit image an uncompressed TIFF
Blender writes, read reduced by the worker), a camera render (Workbench, headless-safe)
and the 3D viewport as the artist sees it (GPU offscreen, overlays off; UI only)."""
from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING

import bpy

from ..core import errors

if TYPE_CHECKING:
    from ..core.request import ImageRole, InputImage

RENDER_PREFIX = "nb-render-"   # camera renders live in the temp dir only while they are read


# Formats whose stored bytes go out as they are (Pillow re-encodes them off the main
# thread); anything else (EXR, HDR, ...) or unsaved paint goes out as its pixels.
PASS_THROUGH = {"PNG", "JPEG", "WEBP", "BMP", "TIFF", "TARGA", "TARGA_RAW"}
# Colour spaces that hold data, not colour: sent as they are. Every other float image holds
# scene-linear colour and is encoded to sRGB (what the artist sees with the Standard view).
DATA_SPACES = {"Non-Color", "Raw", "Generic Data"}
# Above this many pixels (a float copy of 256 MB) unsaved 8-bit pixels leave through a file
# Blender writes (8-bit TIFF, 4 B a pixel, read reduced by the worker), not a float copy
# (16 B a pixel). Float images stay a float copy: Blender's float-to-8-bit write is slower
# than the copy by far (about 9 s against 3 s at 8K).
LARGE_PIXELS = 4096 * 4096


def is_data(img: bpy.types.Image) -> bool:
    return img.colorspace_settings.name in DATA_SPACES


def image_input(img: bpy.types.Image, role: ImageRole = "reference", name: str = "") -> InputImage:
    """An image datablock as an input: the stored file's bytes when they are current and
    in a common format, else a copy of its pixels (unsaved paint, generated, EXR/HDR), or
    for a large 8-bit one a TIFF Blender writes (`written_copy`). Main thread: only the copy
    happens here; conversion, resize and encoding run in the job's worker
    (`core.pipeline.prepare`)."""
    from ..core.request import InputImage
    name = name or img.name
    stored = img.file_format in PASS_THROUGH and not img.is_dirty
    if stored and img.packed_file is not None:
        data = bytes(img.packed_file.data)  # type: ignore[arg-type]  # stub says str
        return InputImage(data, mime_of(img.filepath or img.name, img.file_format), role, name)
    if stored and img.source == "FILE" and img.filepath:
        path = bpy.path.abspath(img.filepath, library=img.library)
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                return InputImage(fh.read(), mime_of(path, img.file_format), role, name)
    w, h = img.size
    if not (w and h):
        raise errors.InvalidInput(f"Image '{img.name}' has no pixels or its file is missing. "
                                  "Reload or replace it and try again.")
    if w * h > LARGE_PIXELS and not img.is_float and img.source != "TILED":
        data = written_copy(img)
        if data:
            return InputImage(data, "image/tiff", role, name)
    import numpy as np
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return InputImage(b"", "image/png", role, name, pixels=buf.reshape(h, w, 4),
                      linear=bool(img.is_float) and not is_data(img))


def written_copy(img: bpy.types.Image) -> bytes:
    """A large image's current pixels (unsaved paint included) as an uncompressed 8-bit RGBA
    TIFF that Blender writes (`save_render` through a throw-away scene with the Standard
    view, no look, no dither): scene-linear float is encoded to sRGB, byte colour and data
    stay as they are. Peak about 1 GB for a 16K image instead of a 4 GB float copy; the
    worker reads it reduced without decoding a second copy (images.read_reduced). The
    image itself is not changed (still unsaved, same path). b"" if Blender cannot write it."""
    fd, path = tempfile.mkstemp(prefix=RENDER_PREFIX, suffix=".tif")
    os.close(fd)
    try:
        scene = bpy.data.scenes.new("nb-capture")
        try:
            view = scene.view_settings
            view.view_transform, view.look = "Standard", "None"
            view.exposure, view.gamma, view.use_curve_mapping = 0.0, 1.0, False
            scene.display_settings.display_device = "sRGB"
            scene.render.dither_intensity = 0.0
            out = scene.render.image_settings
            out.file_format, out.tiff_codec, out.color_mode, out.color_depth = "TIFF", "NONE", "RGBA", "8"
            img.save_render(path, scene=scene)
        except RuntimeError:
            return b""
        finally:
            bpy.data.scenes.remove(scene)   # before the read: Blender's write buffers go first
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def mime_of(path: str, file_format: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
            ".png": "image/png"}.get(ext, {"JPEG": "image/jpeg", "WEBP": "image/webp"}
                                         .get(file_format, "image/png"))


def active_texture(context) -> tuple[bpy.types.Image, bpy.types.Material | None, str]:
    """(image, material, node name) the edit_texture operator works on."""
    space = getattr(context, "space_data", None)
    if space is not None and space.type == "IMAGE_EDITOR" and space.image is not None:
        return space.image, None, ""
    obj = context.active_object
    mat = obj.active_material if obj is not None else None
    if mat is not None and mat.node_tree is not None:
        node = mat.node_tree.nodes.active
        if node is not None and node.type == "TEX_IMAGE" and node.image is not None:
            return node.image, mat, node.name
    raise errors.InvalidInput("No texture selected. Open an image in the Image Editor, or select "
                              "an Image Texture node in the active object's material.")


def camera_render(context, max_side: int = 2048) -> bytes:
    """Render the active camera with Workbench into a temp file; returns PNG bytes."""
    scene = context.scene
    if scene.camera is None:
        raise errors.InvalidInput("The scene has no active camera. Add a camera or use the "
                                  "Viewport source.")
    r = scene.render
    saved = (r.engine, r.filepath, r.resolution_percentage, r.image_settings.file_format,
             r.image_settings.color_mode, r.use_file_extension)
    w = r.resolution_x * r.resolution_percentage // 100
    h = r.resolution_y * r.resolution_percentage // 100
    pct = r.resolution_percentage
    if max(w, h) > max_side:
        pct = max(1, int(pct * max_side / max(w, h)))
    fd, path = tempfile.mkstemp(prefix=RENDER_PREFIX, suffix=".png")
    os.close(fd)
    try:
        r.engine = "BLENDER_WORKBENCH"
        r.filepath = path
        r.use_file_extension = False
        r.resolution_percentage = pct
        r.image_settings.file_format = "PNG"
        r.image_settings.color_mode = "RGB"
        bpy.ops.render.render(write_still=True, scene=scene.name)
        with open(path, "rb") as fh:
            data = fh.read()
    finally:
        (r.engine, r.filepath, r.resolution_percentage, r.image_settings.file_format,
         r.image_settings.color_mode, r.use_file_extension) = saved
        try:
            os.unlink(path)
        except OSError:
            pass
    if not data:
        raise errors.InvalidInput("The camera render produced no image.")
    return data


def render_result(context, max_side: int = 2048) -> bytes:
    """PNG of the last final render (F12) as the artist sees it: Blender writes it with the
    scene's view transform (save_render), into a temp file read back at once."""
    img = bpy.data.images.get("Render Result")
    if img is None or img.type != "RENDER_RESULT":
        raise errors.no_render_result()
    fd, path = tempfile.mkstemp(prefix=RENDER_PREFIX, suffix=".png")
    os.close(fd)
    settings = context.scene.render.image_settings
    saved = (settings.file_format, settings.color_mode)
    try:
        settings.file_format, settings.color_mode = "PNG", "RGB"
        try:
            img.save_render(path, scene=context.scene)
        except RuntimeError:
            raise errors.no_render_result() from None
        with open(path, "rb") as fh:
            data = fh.read()
    finally:
        settings.file_format, settings.color_mode = saved
        try:
            os.unlink(path)
        except OSError:
            pass
    if not data:
        raise errors.no_render_result()
    return data


def _gpu_read(context, width: int, height: int):
    """Draw the 3D view offscreen and read RGBA bytes (bottom-up rows). UI only."""
    import gpu
    import numpy as np
    region = context.region
    space = context.space_data
    offscreen = gpu.types.GPUOffScreen(width, height)  # type: ignore[call-arg]
    try:
        offscreen.draw_view3d(context.scene, context.view_layer, space, region,
                              space.region_3d.view_matrix, space.region_3d.window_matrix,
                              do_color_management=True)
        with offscreen.bind():  # type: ignore[func-returns-value]
            fb = gpu.state.active_framebuffer_get()
            buf = fb.read_color(0, 0, width, height, 4, 0, "UBYTE")
        buf.dimensions = width * height * 4
        try:            # gpu.types.Buffer exposes the buffer protocol in current Blender
            flat = np.frombuffer(buf, dtype=np.uint8).copy()
        except (TypeError, ValueError):
            flat = np.array(buf.to_list(), dtype=np.uint8)
        return flat.reshape(height, width, 4)
    finally:
        offscreen.free()


def viewport(context, reader: Callable | None = None, max_side: int = 2048) -> bytes:
    """PNG of the active 3D viewport as the artist sees it, overlays off."""
    from PIL import Image
    space = getattr(context, "space_data", None)
    region = getattr(context, "region", None)
    if space is None or space.type != "VIEW_3D" or region is None:
        raise errors.InvalidInput("No 3D viewport to capture. Run this from the 3D View, or "
                                  "choose the Camera render source.")
    scale = min(1.0, max_side / max(region.width, region.height))
    width, height = max(1, int(region.width * scale)), max(1, int(region.height * scale))
    overlay = space.overlay.show_overlays
    space.overlay.show_overlays = False
    try:
        arr = (reader or _gpu_read)(context, width, height)
    finally:
        space.overlay.show_overlays = overlay
    out = io.BytesIO()
    Image.fromarray(arr[::-1].copy(), "RGBA").convert("RGB").save(out, "PNG")
    return out.getvalue()
