"""Checks the extension zips that `python3 build.py` wrote to dist/ (standard library only).

Each zip must be installable by Blender 4.2 (CPython 3.11) through 5.x (CPython 3.13) on
its platform: a valid manifest, every wheel it lists packed once, wheels for that platform
only, and a wheel for both Python versions of every locked distribution.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("NANOBANANA_DIST", ROOT / "dist"))
MAX_ZIP_BYTES = 40 * 1024 * 1024
PYTHONS = ((3, 11), (3, 13))


def _load_build():
    """build.py (lock parsing, marker evaluation), loaded by path: PyPI also has a `build`."""
    spec = importlib.util.spec_from_file_location("nanobanana_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it executes
    spec.loader.exec_module(module)
    return module


build = _load_build()

ZIPS = sorted(DIST.glob("nanobanana-*.zip")) if DIST.is_dir() else []
pytestmark = pytest.mark.skipif(not ZIPS, reason=f"no zips in {DIST}: run `python3 build.py` first")


def zip_platform(path: Path) -> str:
    m = re.fullmatch(r"nanobanana-[^-]+-(\w+?)_(\w+)\.zip", path.name)
    assert m, f"{path.name}: expected nanobanana-<version>-<os>_<arch>.zip"
    return f"{m.group(1)}-{m.group(2)}"


def wheel_tags(filename: str) -> tuple[str, str, str, str]:
    parts = filename[:-4].split("-")
    assert filename.endswith(".whl") and len(parts) in (5, 6), filename
    return build.norm_name(parts[0]), parts[-3], parts[-2], parts[-1]


def platform_tag_ok(platform: str, tag: str) -> bool:
    if tag == "any":
        return True
    if platform == "linux-x64":
        return tag.startswith("manylinux") and tag.endswith("_x86_64")
    if platform == "windows-x64":
        return tag == "win_amd64"
    if platform == "windows-arm64":
        return tag == "win_arm64"
    if platform == "macos-x64":
        return tag.startswith("macosx_") and tag.endswith(("_x86_64", "_universal2"))
    if platform == "macos-arm64":
        return tag.startswith("macosx_") and tag.endswith(("_arm64", "_universal2"))
    return False


def python_ok(py: tuple[int, int], python_tags: str, abi_tags: str) -> bool:
    """Would CPython `py` load this wheel (the check Blender applies at install)?"""
    cp = f"cp{py[0]}{py[1]}"
    for p in python_tags.split("."):
        for a in abi_tags.split("."):
            if a == "none" and p in ("py3", f"py{py[0]}{py[1]}", cp):
                return True
            if a == cp and p == cp:
                return True
            m = re.fullmatch(r"cp3(\d+)", p)
            if a == "abi3" and m and int(m.group(1)) <= py[1]:
                return True
    return False


def effective_manifest(zf: zipfile.ZipFile) -> dict:
    data = tomllib.loads(zf.read("blender_manifest.toml").decode("utf-8"))
    generated = data.get("build", {}).get("generated", {})
    for key in ("platforms", "wheels"):  # Blender swaps these in at install time
        if key in generated:
            data[key] = generated[key]
    return data


@pytest.fixture(params=ZIPS, ids=[z.name for z in ZIPS])
def zip_path(request) -> Path:
    return request.param


def test_manifest_and_layout(zip_path: Path) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        manifest = effective_manifest(zf)
    assert "blender_manifest.toml" in names
    assert "__init__.py" in names, "the add-on package must be the zip root"
    assert manifest["id"] == "nanobanana"
    assert manifest["platforms"] == [zip_platform(zip_path)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"packed twice: {dupes}"
    bad = [n for n in names if "__pycache__/" in n or n.endswith(".pyc")
           or n.startswith(("tests/", "dist/", "vendor/", ".")) or "/tests/" in n]
    assert not bad, f"development files packed: {bad}"
    wheels = manifest.get("wheels")
    assert wheels, "manifest has no wheels list"
    listed = set()
    for w in wheels:
        assert w.startswith("./wheels/"), w
        listed.add(w[2:])
        assert w[2:] in names, f"{w} listed in the manifest but not in the zip"
    packed = {n for n in names if n.endswith(".whl")}
    assert packed == listed, f"wheels packed but not listed: {sorted(packed - listed)}"


def test_wheels_match_platform_and_pythons(zip_path: Path) -> None:
    platform = zip_platform(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        wheels = [n.rsplit("/", 1)[-1] for n in zf.namelist() if n.endswith(".whl")]
    by_name: dict[str, list[tuple[str, str, str]]] = {}
    for w in wheels:
        name, py, abi, plat = wheel_tags(w)
        assert any(platform_tag_ok(platform, t) for t in plat.split(".")), \
            f"{w} is not for {platform}"
        by_name.setdefault(name, []).append((py, abi, w))
    assert "google-genai" in by_name and "pillow" in by_name
    reqs = build.read_lock()
    for py in PYTHONS:
        for req in build.requirements_for(reqs, platform, f"{py[0]}.{py[1]}"):
            ok = [w for p, a, w in by_name.get(req.name, [])
                  if python_ok(py, p, a) and f"-{req.version}-" in w]
            assert ok, f"{zip_path.name}: no {req.pin} wheel for CPython {py[0]}.{py[1]}"
            if len(ok) > 1:
                pytest.fail(f"{zip_path.name}: several {req.name} wheels for CPython "
                            f"{py[0]}.{py[1]}: {ok}")


def test_zip_size(zip_path: Path) -> None:
    size = zip_path.stat().st_size
    assert size < MAX_ZIP_BYTES, f"{zip_path.name} is {size / 1e6:.1f} MB"


def test_repository_index_lists_every_zip() -> None:
    index = json.loads((DIST / "index.json").read_text(encoding="utf-8"))
    entries = {e["archive_url"].rsplit("/", 1)[-1]: e for e in index["data"]}
    for z in ZIPS:
        assert z.name in entries, f"index.json does not list {z.name}"
        entry = entries[z.name]
        assert entry["id"] == "nanobanana"
        assert entry["platforms"] == [zip_platform(z)]
        assert entry["archive_size"] == z.stat().st_size
        assert entry["archive_hash"] == "sha256:" + hashlib.sha256(z.read_bytes()).hexdigest()
        assert {"3.11", "3.13"} <= set(entry.get("python_versions", []))
    assert (DIST / "index.html").is_file()


def test_source_manifest_has_no_wheels_and_matches_zips() -> None:
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
    assert "wheels" not in manifest, "build.py generates the wheels list; keep it out of the repo"
    built = [z for z in ZIPS if z.name.startswith(f"nanobanana-{manifest['version']}-")]
    assert built, f"no zip for version {manifest['version']} in {DIST}"
    for z in built:
        assert zip_platform(z) in manifest["platforms"]
