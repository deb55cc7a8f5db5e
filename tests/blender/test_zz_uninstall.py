"""Runs last (file order): uninstall through Blender's extension manager removes the
add-on, and the session wrote nothing outside its isolated profile."""
from __future__ import annotations

import bpy
from conftest import MODULE, OUTSIDE_BEFORE, PROFILE, _outside_snapshot, module_enabled

from tools.blender_session import uninstall


def test_uninstall_removes_the_extension(addon):
    package_dir = PROFILE / "extensions" / "user_default" / "nanobanana"
    assert package_dir.is_dir()
    uninstall()
    assert not module_enabled()
    assert not package_dir.exists()
    assert not hasattr(bpy.types.Scene, "nanobanana")
    assert not hasattr(bpy.ops.nanobanana, "generate") or not _op_registered()
    assert MODULE not in bpy.context.preferences.addons


def _op_registered() -> bool:
    try:
        bpy.ops.nanobanana.generate.get_rna_type()
        return True
    except KeyError:
        return False


def test_nothing_was_written_outside_the_profile(addon):
    # Blender's own temp folders and the add-on's camera renders, had they escaped.
    new = {n for n in _outside_snapshot() - OUTSIDE_BEFORE
           if n.startswith(("tmp/blender", "tmp/nb-render-", "config/"))}
    assert new == set()
