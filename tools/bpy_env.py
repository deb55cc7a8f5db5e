"""Cached virtual environments holding the PyPI `bpy` module (a real headless Blender).

Owns: where the cache lives, which Blender versions we test on, creating a venv per
version (once; reruns reuse it), and finding Blender's own `blender_ext.py` packaging
tool inside such a venv. Standard library only: used by build.py, tests/run.py and bench/.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The Blender versions CI proves the extension on (PyPI bpy, CPython 3.11).
BLENDER_VERSIONS = ("4.2.23", "4.5.15", "5.0.1")
# The newest one also provides the packaging tool.
PACKAGING_VERSION = BLENDER_VERSIONS[-1]
# Test-only packages installed next to bpy (pinned).
BPY_VENV_EXTRAS = ("pytest==9.2.0",)
VENV_SCHEMA = "1"  # bump to force fresh venvs when BPY_VENV_EXTRAS change meaningfully


def cache_root() -> Path:
    """Big downloads live outside the clone so fresh clones reuse them."""
    env = os.environ.get("NANOBANANA_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nanobanana-ci"


def find_python311() -> str:
    for cand in ("python3.11",):
        path = shutil.which(cand)
        if path:
            return path
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    raise SystemExit("error: Python 3.11 is required for the PyPI bpy module (python3.11 not found)")


def venv_python(version: str) -> Path:
    return cache_root() / f"bpy-{version}" / "bin" / "python"


def ensure_bpy(version: str, *, quiet: bool = True) -> Path:
    """Return the python of a venv with bpy==version installed, creating it if needed."""
    root = cache_root() / f"bpy-{version}"
    stamp = root / f".ok-{VENV_SCHEMA}-{'-'.join(BPY_VENV_EXTRAS)}"
    py = root / "bin" / "python"
    if stamp.exists() and py.exists():
        return py
    root.parent.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        subprocess.run([find_python311(), "-m", "venv", str(root)], check=True)
    print(f"[bpy-env] installing bpy=={version} into {root} (about 400 MB, once)", flush=True)
    cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check",
           f"bpy=={version}", *BPY_VENV_EXTRAS]
    if quiet:
        cmd.insert(4, "-q")
    subprocess.run(cmd, check=True)
    stamp.write_text("ok\n")
    return py


def blender_ext_path(version: str | None = None) -> Path:
    """Path of Blender's own blender_ext.py inside the cached bpy of `version`."""
    version = version or PACKAGING_VERSION
    py = ensure_bpy(version)
    site = py.parent.parent / "lib" / "python3.11" / "site-packages"
    hits = glob.glob(str(site / "bpy" / "*" / "scripts" / "addons_core" / "bl_pkg" / "cli"
                         / "blender_ext.py"))
    if not hits:
        raise SystemExit(f"error: blender_ext.py not found inside bpy {version} at {site}")
    return Path(hits[0])


def valid_tags_path(version: str | None = None) -> Path:
    ext = blender_ext_path(version)
    scripts = ext.parents[3]
    return scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"


if __name__ == "__main__":
    for v in (sys.argv[1:] or BLENDER_VERSIONS):
        print(ensure_bpy(v))
