"""The Blender versions CI tests on (tools/bpy_env.py) agree with the manifest's range, the
CPython versions build.py packs wheels for, and the README (no network, no dist/)."""
from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tools.bpy_env import BLENDER_VERSIONS, PACKAGING_VERSION, python_for  # noqa: E402

_spec = importlib.util.spec_from_file_location("nanobanana_build_versions", ROOT / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build
_spec.loader.exec_module(build)


def _v(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def test_every_tested_version_is_inside_the_manifest_range():
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
    low = _v(manifest["blender_version_min"])
    high = _v(manifest.get("blender_version_max", "999.0.0"))   # exclusive
    for version in BLENDER_VERSIONS:
        assert low <= _v(version) < high, version
    # the oldest tested version is the minimum we claim
    assert _v(BLENDER_VERSIONS[0])[:2] == low[:2]


def test_each_tested_version_gets_wheels_for_its_python():
    assert python_for("4.2.23") == python_for("5.0.1") == "3.11"
    assert python_for("5.1.0") == python_for("5.3.0") == "3.13"
    assert {python_for(v) for v in BLENDER_VERSIONS} <= set(build.PYTHONS)
    assert PACKAGING_VERSION in BLENDER_VERSIONS


def test_readme_lists_the_tested_versions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for version in BLENDER_VERSIONS:
        assert version in readme, version
