"""Registers and unregisters every class, property and handler, in order, and leaves
nothing behind on disable (a leftover class can hang Blender at exit)."""
from __future__ import annotations

import bpy

from .classes import (
    batches,
    gallery,
    header,
    key_check,
    masks,
    materials,
    operators,
    panels,
    preferences,
    pump,
    sequence,
    settings,
    texturing,
    variations,
)

CLASSES = (*preferences.CLASSES, *settings.CLASSES, *operators.CLASSES, *masks.CLASSES,
           *materials.CLASSES, *key_check.CLASSES, *texturing.CLASSES,
           *gallery.CLASSES, *panels.CLASSES, *batches.CLASSES,
           *sequence.CLASSES, *variations.CLASSES)


COMMAND = "nanobanana"          # blender -c nanobanana ... (cli.py)
_cli_handle = None


def _run_cli(argv: list[str]) -> int:
    from . import cli  # loaded when the command runs, not when Blender starts
    return cli.main(argv)



def register() -> None:
    global _cli_handle
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    settings.register_props()
    pump.register()
    header.register()
    variations.register()
    batches.register()
    texturing.register()             # the sliced capture's header hook
    if hasattr(bpy.utils, "register_cli_command") and _cli_handle is None:
        _cli_handle = bpy.utils.register_cli_command(COMMAND, _run_cli)  # type: ignore[func-returns-value]


def unregister() -> None:
    global _cli_handle
    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
    texturing.unregister()
    batches.unregister()
    variations.unregister()
    header.unregister()
    pump.unregister()
    gallery.unregister()
    settings.unregister_props()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
