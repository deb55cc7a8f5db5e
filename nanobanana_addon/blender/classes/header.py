"""The editor headers' progress line and "Pick a Variation" button (3D View, Image
Editor, Node Editor). Blender calls the appended draw on every redraw of those headers,
so the one here only looks whether there is anything to show, without loading anything:
running jobs live in runtime.STATE and waiting variations in variation_pick, so while
either module is not loaded there is nothing. Otherwise it calls header_progress.draw."""

import bpy

from ..lazy import loaded, resolve

HEADERS = ("VIEW3D_HT_header", "IMAGE_HT_header", "NODE_HT_header")


def busy() -> bool:
    """Jobs are running or variations wait for a pick."""
    pick = loaded("blender.variation_pick")
    if pick is not None and pick.pending():
        return True
    runtime = loaded("blender.runtime")
    return runtime is not None and bool(runtime.STATE.jobs.running())


def draw(self, context) -> None:
    if busy():
        resolve("header_progress:draw")(self, context)


def register() -> None:
    for name in HEADERS:
        getattr(bpy.types, name).append(draw)


def unregister() -> None:
    for name in HEADERS:
        getattr(bpy.types, name).remove(draw)
