"""Unit checks of build.py's own marker evaluation and wheel selection (no network, no dist/)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("nanobanana_build", ROOT / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build
_spec.loader.exec_module(build)


@pytest.mark.parametrize("marker, platform, python, expected", [
    ("sys_platform == 'emscripten'", "linux-x64", "3.11", False),
    ("sys_platform != 'emscripten'", "windows-x64", "3.13", True),
    ("python_full_version >= '3.12' and sys_platform == 'emscripten'", "linux-x64", "3.13", False),
    ("python_version < '3.12'", "linux-x64", "3.11", True),
    ("python_version < '3.12'", "linux-x64", "3.13", False),
    ("python_version >= '3.9'", "macos-arm64", "3.11", True),
    ("implementation_name != 'PyPy' and platform_python_implementation != 'PyPy'",
     "macos-x64", "3.11", True),
    ("(sys_platform == 'win32' or sys_platform == 'darwin') and platform_machine == 'arm64'",
     "macos-arm64", "3.13", True),
    ('platform_machine in "x86_64 AMD64"', "windows-x64", "3.11", True),
    ("'arm' not in platform_machine", "macos-arm64", "3.11", False),
    ("python_version ~= '3.11'", "linux-x64", "3.13", True),
])
def test_eval_marker(marker, platform, python, expected):
    assert build.eval_marker(marker, build.marker_env(platform, python)) is expected


def test_lock_is_complete_for_every_target():
    reqs = build.read_lock()
    names = {r.name for r in reqs}
    assert {"google-genai", "pillow"} <= names
    for platform in build.PLATFORM_TAGS:
        for python in build.PYTHONS:
            wanted = {r.name for r in build.requirements_for(reqs, platform, python)}
            assert {"google-genai", "pillow", "pydantic-core", "cryptography"} <= wanted
            assert "httpx2-jsfetch" not in wanted  # emscripten only


def test_select_prefers_binary_and_right_python(tmp_path):
    files = ["pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
             "pillow-13.0.0-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
             "pillow-13.0.0-cp313-cp313-musllinux_1_2_x86_64.whl",
             "pillow-13.0.0-cp311-cp311-win_amd64.whl",
             "charset_normalizer-3.5.2-py3-none-any.whl",
             "charset_normalizer-3.5.2-cp313-cp313-macosx_10_13_universal2.whl",
             "cryptography-48.0.1-cp39-abi3-macosx_10_9_universal2.whl",
             "cryptography-48.0.1-cp311-abi3-macosx_10_9_universal2.whl"]
    cache: dict = {}
    for f in files:
        w = build.parse_wheel(tmp_path / f)
        cache.setdefault((w.name, w.version), []).append(w)

    def pick(name, version, platform, python):
        rank = {t: i for i, t in enumerate(build.supported_tags(platform, python))}
        w = build.select_wheel(build.Requirement(name, version, None), cache, rank)
        return w.filename if w else None

    assert pick("pillow", "13.0.0", "linux-x64", "3.13") == files[1]
    assert pick("pillow", "13.0.0", "linux-x64", "3.11") == files[0]
    assert pick("pillow", "13.0.0", "windows-arm64", "3.11") is None
    assert pick("charset-normalizer", "3.5.2", "macos-arm64", "3.13") == files[5]
    assert pick("charset-normalizer", "3.5.2", "macos-arm64", "3.11") == files[4]
    assert pick("cryptography", "48.0.1", "macos-x64", "3.13") == files[7]
    assert pick("cryptography", "48.0.1", "macos-x64", "3.11") == files[7]


def test_manifest_with_inserts_wheels_before_tables():
    text = (ROOT / "blender_manifest.toml").read_text(encoding="utf-8")
    out = build.manifest_with(text, ["a-1-py3-none-any.whl"], ["linux-x64"])
    import tomllib
    data = tomllib.loads(out)
    assert data["wheels"] == ["./wheels/a-1-py3-none-any.whl"]
    assert data["platforms"] == ["linux-x64"]
    assert data["permissions"] == tomllib.loads(text)["permissions"]
