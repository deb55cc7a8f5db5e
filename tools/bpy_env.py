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

# The Blender versions CI proves the extension on (PyPI bpy): 4.2 LTS, 4.5 LTS and 5.0 on
# CPython 3.11, 5.2 LTS and 5.3 on CPython 3.13 (Blender 5.1+ bundles 3.13).
BLENDER_VERSIONS = ("4.2.23", "4.5.15", "5.0.1", "5.2.3", "5.3.0")
# The one whose blender_ext.py builds and validates the zips: the newest on CPython 3.11,
# so a build needs no 3.13 (checked: its zips install on every version above).
PACKAGING_VERSION = "5.0.1"
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


def python_for(version: str) -> str:
    """The CPython (major.minor) Blender `version` bundles, hence the one PyPI bpy needs."""
    major, minor = (int(x) for x in version.split(".")[:2])
    return "3.11" if (major, minor) <= (5, 0) else "3.13"


def _runs_as(exe: str, python: str) -> bool:
    """True if `exe` starts and is CPython `python` (a pyenv shim on PATH may not run)."""
    try:
        out = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip() == python


def _pyenv_candidates(python: str) -> list[str]:
    """`$(pyenv root)/versions/<python>.*/bin/python<python>`, newest patch release first."""
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return []
    try:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return []
    if not root:
        return []

    def patch(path: str) -> int:
        tail = Path(path).parents[1].name.rsplit(".", 1)[-1]
        return int(tail) if tail.isdigit() else -1

    hits = glob.glob(os.path.join(root, "versions", f"{python}.*", "bin", f"python{python}"))
    return sorted(hits, key=patch, reverse=True)


def find_python(python: str) -> str:
    """An interpreter for CPython `python` ("3.11", "3.13"): `python3.X` on PATH, this
    interpreter, or one installed by pyenv. Exits with a clear message if there is none."""
    cands = []
    on_path = shutil.which(f"python{python}")
    if on_path:
        cands.append(on_path)
    if "%d.%d" % sys.version_info[:2] == python:
        cands.append(sys.executable)
    cands += _pyenv_candidates(python)
    for cand in dict.fromkeys(cands):
        if _runs_as(cand, python):
            return cand
    raise SystemExit(
        f"error: Python {python} is required for the PyPI bpy module of Blender "
        f"{'4.2-5.0' if python == '3.11' else '5.1 and later'}, and python{python} was not "
        f"found (not on PATH, not this interpreter, not in pyenv). Install it, e.g. "
        f"`pyenv install -s {python}.0`, or put python{python} on PATH.")


def find_python311() -> str:
    return find_python("3.11")


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
    python = python_for(version)
    if not py.exists() or not _runs_as(str(py), python):
        # missing, or made by another CPython (bpy has no wheel for it): start afresh
        subprocess.run([find_python(python), "-m", "venv", "--clear", str(root)], check=True)
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
    site = py.parent.parent / "lib" / f"python{python_for(version)}" / "site-packages"
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
