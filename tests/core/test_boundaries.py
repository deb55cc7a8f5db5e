"""core/ never imports Blender modules, and importing it loads no heavy dependency."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "nanobanana_addon" / "core"
FORBIDDEN = {"bpy", "mathutils", "gpu", "bmesh", "bgl", "blf", "addon_utils"}


def test_core_source_imports_no_blender_module():
    offenders = []
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_masking_modules_leave_pillow_until_used():
    code = ("import sys, nanobanana_addon.core.masking;"
            "print(sorted(m for m in ('bpy', 'google.genai', 'PIL', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=CORE.parents[1], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_importing_core_loads_neither_bpy_nor_heavy_deps():
    code = ("import sys, nanobanana_addon.core.client, nanobanana_addon.core.jobs, "
            "nanobanana_addon.core.history, nanobanana_addon.core.pipeline, nanobanana_addon.core.images;"
            "print(sorted(m for m in ('bpy', 'google.genai', 'PIL', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=CORE.parents[1], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"
