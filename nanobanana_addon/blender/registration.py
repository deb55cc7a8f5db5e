"""Registers and unregisters every class, property and handler, in order, and leaves
nothing behind on disable (a leftover class can hang Blender at exit)."""
from __future__ import annotations

import bpy

from . import (
    gallery,
    header_progress,
    key_check,
    mask_ops,
    material_ops,
    operators,
    panels,
    preferences,
    properties,
    pump,
    texturing,
)

CLASSES = (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *mask_ops.CLASSES,
           *material_ops.CLASSES, *key_check.CLASSES, *texturing.CLASSES,
           *gallery.CLASSES, *panels.CLASSES)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register_props()
    gallery.register()
    pump.register()
    header_progress.register()


def unregister() -> None:
    header_progress.unregister()
    pump.unregister()
    gallery.unregister()
    properties.unregister_props()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
