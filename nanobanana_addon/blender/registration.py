"""Registers and unregisters every class, property and handler, in order, and leaves
nothing behind on disable (a leftover class can hang Blender at exit)."""
from __future__ import annotations

import bpy

from . import batches, cli, gallery, operators, panels, preferences, properties, pump

CLASSES = (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *gallery.CLASSES,
           *panels.CLASSES, *batches.CLASSES)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register_props()
    gallery.register()
    pump.register()
    batches.register()
    cli.register()


def unregister() -> None:
    cli.unregister()
    batches.unregister()
    pump.unregister()
    gallery.unregister()
    properties.unregister_props()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
