#!/usr/bin/env python3
"""Build the Nano Banana extension: wheels -> staged manifest -> per-platform zips -> repository.

Owns:
- the lock: `vendor/requirements.in` -> `vendor/requirements.txt` (pinned, hashed,
  universal; `--lock` regenerates it with uv installed into a cache venv);
- the wheel cache `vendor/wheels/` (git-ignored, one flat folder, so pure-Python wheels
  are stored once): for every platform of `blender_manifest.toml` and for CPython 3.11
  (Blender 4.2-5.0) AND 3.13 (Blender 5.1+), one wheel per locked distribution, checked
  against the lock's hashes; markers are evaluated here per target, never by pip;
- staging outside the source tree (add-on package + manifest with a generated `wheels`
  list + wheels), then Blender's own `blender_ext.py build --split-platforms`, `validate`
  of each zip, and `server-generate --html` (dist/index.json + dist/index.html).

Does not own: the add-on code (nanobanana_addon/), the manifest's content
(blender_manifest.toml is the source of truth; only the staged copy is modified).

Usage: `python3 build.py` (everything), `--offline`, `--platform linux-x64`, `--lock`;
see `python3 build.py --help`. Standard library only; pip runs as a subprocess of this
interpreter; Python >= 3.11.
Exit codes: 0 ok, 2 a clear, fixable problem (missing wheel, bad option), 1 tool failure.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MANIFEST = ROOT / "blender_manifest.toml"
REQ_IN = ROOT / "vendor" / "requirements.in"
REQ_TXT = ROOT / "vendor" / "requirements.txt"
WHEEL_CACHE = ROOT / "vendor" / "wheels"
DEFAULT_SOURCE = ROOT / "nanobanana_addon"
DEFAULT_OUT = ROOT / "dist"

# CPython versions Blender bundles: 3.11 (4.2 LTS .. 5.0) and 3.13 (5.1+).
PYTHONS = ("3.11", "3.13")
# A representative patch release, only used for `python_full_version` markers.
PYTHON_FULL = {"3.11": "3.11.9", "3.13": "3.13.5"}
UV_VERSION = "0.13.9"

# Blender 4.2+ needs glibc >= 2.28, so any manylinux up to 2_28 is fine. Order = preference.
_LINUX_X64 = ([f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)]
              + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"])
# Blender 4.2+ needs macOS 11.2: wheels for macOS 11.0 and older work.
_MAC_X64 = (["macosx_11_0_x86_64"] + [f"macosx_10_{m}_x86_64" for m in range(16, 8, -1)]
            + ["macosx_11_0_universal2"] + [f"macosx_10_{m}_universal2" for m in range(16, 8, -1)])
_MAC_ARM64 = ["macosx_11_0_arm64", "macosx_11_0_universal2"] + [
    f"macosx_10_{m}_universal2" for m in range(16, 8, -1)]

PLATFORM_TAGS: dict[str, list[str]] = {
    "linux-x64": _LINUX_X64,
    "windows-x64": ["win_amd64"],
    "windows-arm64": ["win_arm64"],
    "macos-x64": _MAC_X64,
    "macos-arm64": _MAC_ARM64,
}

# PEP 508 marker environment per Blender platform.
PLATFORM_ENV: dict[str, dict[str, str]] = {
    "linux-x64": {"sys_platform": "linux", "platform_system": "Linux",
                  "platform_machine": "x86_64", "os_name": "posix"},
    "windows-x64": {"sys_platform": "win32", "platform_system": "Windows",
                    "platform_machine": "AMD64", "os_name": "nt"},
    "windows-arm64": {"sys_platform": "win32", "platform_system": "Windows",
                      "platform_machine": "ARM64", "os_name": "nt"},
    "macos-x64": {"sys_platform": "darwin", "platform_system": "Darwin",
                  "platform_machine": "x86_64", "os_name": "posix"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin",
                    "platform_machine": "arm64", "os_name": "posix"},
}


class BuildError(Exception):
    """A clear, fixable problem: printed as one line, exit code 2."""


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------------------
# PEP 508 markers (the small subset lock files use: comparisons joined by and/or, parens)

def eval_marker(marker: str, env: dict[str, str]) -> bool:
    """Evaluate an environment marker for a target platform/Python (PEP 508), with the
    `packaging` library: the standalone one if installed, else the copy pip ships."""
    try:
        from packaging.markers import InvalidMarker, Marker
    except ImportError:
        from pip._vendor.packaging.markers import InvalidMarker, Marker
    try:
        return Marker(marker).evaluate(env)
    except InvalidMarker as exc:
        raise BuildError(f"cannot parse environment marker {marker!r}: {exc}") from None


def marker_env(platform: str, python: str) -> dict[str, str]:
    full = PYTHON_FULL[python]
    return {**PLATFORM_ENV[platform], "python_version": python, "python_full_version": full,
            "implementation_name": "cpython", "implementation_version": full,
            "platform_python_implementation": "CPython", "platform_release": "",
            "platform_version": "", "extra": ""}


# --------------------------------------------------------------------------------------
# Lock file

@dataclass
class Requirement:
    name: str          # normalised
    version: str
    marker: str | None
    hashes: set[str] = field(default_factory=set)

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def read_lock(path: Path = REQ_TXT) -> list[Requirement]:
    if not path.exists():
        raise BuildError(f"{path.relative_to(ROOT)} is missing: run `python3 build.py --lock`")
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    reqs = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        hashes = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
        spec = re.sub(r"--hash=\S+", "", line).strip()
        spec, _, marker = spec.partition(";")
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(\S+)", spec.strip())
        if not m:
            raise BuildError(f"lock line is not `name==version`: {raw.strip()!r} "
                             "(run `python3 build.py --lock`)")
        if not hashes:
            raise BuildError(f"lock line for {m.group(1)} has no hashes (run `python3 build.py --lock`)")
        reqs.append(Requirement(norm_name(m.group(1)), m.group(2), marker.strip() or None, hashes))
    if not reqs:
        raise BuildError(f"{path.relative_to(ROOT)} pins nothing: run `python3 build.py --lock`")
    return reqs


def requirements_for(reqs: list[Requirement], platform: str, python: str) -> list[Requirement]:
    env = marker_env(platform, python)
    return [r for r in reqs if r.marker is None or eval_marker(r.marker, env)]


def ensure_uv() -> Path:
    sys.path.insert(0, str(ROOT))
    from tools.bpy_env import cache_root
    venv = cache_root() / f"uv-{UV_VERSION}"
    uv = venv / ("Scripts" if os.name == "nt" else "bin") / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        log(f"installing uv=={UV_VERSION} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"], check=True)
    return uv


def lock() -> None:
    uv = ensure_uv()
    rel_in, rel_txt = REQ_IN.relative_to(ROOT), REQ_TXT.relative_to(ROOT)
    cmd = [str(uv), "pip", "compile", "--universal", "--generate-hashes", "--python-version",
           PYTHONS[0], "--no-header", "--quiet", str(rel_in), "-o", str(rel_txt)]
    log("locking: uv " + " ".join(cmd[1:]))
    subprocess.run(cmd, check=True, cwd=ROOT)
    body = REQ_TXT.read_text(encoding="utf-8")
    REQ_TXT.write_text(
        "# Generated by `python3 build.py --lock` (uv pip compile --universal --generate-hashes\n"
        f"# --python-version {PYTHONS[0]} vendor/requirements.in), valid for CPython "
        f"{' and '.join(PYTHONS)}.\n# Do not edit by hand.\n" + body, encoding="utf-8")
    reqs = read_lock()
    for py in PYTHONS:  # the lock must say something for every target
        for plat in PLATFORM_TAGS:
            requirements_for(reqs, plat, py)
    log(f"wrote {rel_txt}: {len(reqs)} pinned distributions")


# --------------------------------------------------------------------------------------
# Wheel tags and selection

@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: str
    tags: frozenset[tuple[str, str, str]]

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def is_pure(self) -> bool:
        return all(plat == "any" for _, _, plat in self.tags)


def parse_wheel(path: Path) -> Wheel | None:
    parts = path.name[:-4].split("-")
    if not path.name.endswith(".whl") or len(parts) not in (5, 6):
        return None
    pys, abis, plats = parts[-3], parts[-2], parts[-1]
    tags = frozenset((p, a, pl) for p in pys.split(".") for a in abis.split(".")
                     for pl in plats.split("."))
    return Wheel(path, norm_name(parts[0]), parts[1], tags)


def supported_tags(platform: str, python: str) -> list[tuple[str, str, str]]:
    """Tags in preference order, as pip computes them for `--python-version --abi --platform`."""
    major, minor = (int(x) for x in python.split("."))
    cp = f"cp{major}{minor}"
    plats = PLATFORM_TAGS[platform]
    tags = [(cp, abi, pl) for abi in (cp, "abi3", "none") for pl in plats]
    tags += [(f"cp{major}{m}", "abi3", pl) for m in range(minor - 1, 1, -1) for pl in plats]
    pys = [f"py{major}{minor}", f"py{major}"] + [f"py{major}{m}" for m in range(minor - 1, -1, -1)]
    tags += [(py, "none", pl) for py in pys for pl in plats]
    tags += [(cp, "none", "any")] + [(py, "none", "any") for py in pys]
    return tags


def cached_wheels() -> dict[tuple[str, str], list[Wheel]]:
    found: dict[tuple[str, str], list[Wheel]] = {}
    if WHEEL_CACHE.is_dir():
        for p in sorted(WHEEL_CACHE.glob("*.whl")):
            w = parse_wheel(p)
            if w:
                found.setdefault((w.name, w.version), []).append(w)
    return found


def select_wheel(req: Requirement, cache: dict, rank: dict) -> Wheel | None:
    best, best_rank = None, None
    for w in cache.get((req.name, req.version), []):
        r = min((rank[t] for t in w.tags if t in rank), default=None)
        if r is not None and (best_rank is None or r < best_rank):
            best, best_rank = w, r
    return best


def pip_download(reqs: list[Requirement], platform: str, python: str) -> bool:
    """Download wheels for one target into the flat cache. Returns pip's success."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    abi = "cp" + python.replace(".", "")
    with tempfile.TemporaryDirectory(prefix="nanobanana-req-") as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("".join(
            r.pin + "".join(f" --hash=sha256:{h}" for h in sorted(r.hashes)) + "\n" for r in reqs))
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
               "--only-binary=:all:", "--no-deps", "--require-hashes", "-r", str(req_file),
               "--python-version", python, "--implementation", "cp",
               "--abi", abi, "--abi", "abi3", "--abi", "none", "-d", str(WHEEL_CACHE)]
        for tag in PLATFORM_TAGS[platform]:
            cmd += ["--platform", tag]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [re.sub(r" \(from versions:.*\)", "", ln)
                  for ln in proc.stderr.splitlines() if ln.startswith("ERROR")]
        log(f"pip download for {platform} / CPython {python} failed: " + " | ".join(errors[-2:]))
    return proc.returncode == 0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_wheels(reqs: list[Requirement], platforms: list[str], offline: bool
                   ) -> dict[tuple[str, str], list[Wheel]]:
    """{(platform, python): [Wheel, ...]} for every target; downloads what is missing."""
    result: dict[tuple[str, str], list[Wheel]] = {}
    verified: set[Path] = set()
    pinned = {(r.name, r.version) for r in reqs}
    for key, stale in cached_wheels().items():  # versions the lock no longer pins
        if key not in pinned:
            for w in stale:
                log(f"removing {w.filename} from vendor/wheels/ (not in the lock)")
                w.path.unlink()
    for platform in platforms:
        for python in PYTHONS:
            wanted = requirements_for(reqs, platform, python)
            rank = {t: i for i, t in enumerate(supported_tags(platform, python))}
            cache = cached_wheels()
            missing = [r for r in wanted if select_wheel(r, cache, rank) is None]
            if missing and not offline:
                log(f"{platform} / CPython {python}: downloading {len(missing)} wheel(s)")
                if not pip_download(missing, platform, python):
                    # Find out exactly which distribution has no wheel for this target.
                    for r in missing:
                        pip_download([r], platform, python)
                cache = cached_wheels()
                missing = [r for r in wanted if select_wheel(r, cache, rank) is None]
            if missing:
                r = missing[0]
                others = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
                fix = ("run without --offline to download it" if offline else
                       f"the locked version has no {PLATFORM_TAGS[platform][0]} wheel for "
                       f"cp{python.replace('.', '')}: pin a version that has one in "
                       "vendor/requirements.in and run `python3 build.py --lock`, or drop "
                       f"\"{platform}\" from platforms in blender_manifest.toml")
                raise BuildError(f"no wheel of {r.pin}{others} for {platform} / CPython "
                                 f"{python} in vendor/wheels/: {fix}")
            chosen = []
            for r in wanted:
                w = select_wheel(r, cache, rank)
                if w.path not in verified:
                    if sha256(w.path) not in r.hashes:
                        raise BuildError(f"{w.filename} in vendor/wheels/ does not match the hashes "
                                         "in vendor/requirements.txt: delete it and rebuild")
                    verified.add(w.path)
                chosen.append(w)
            result[(platform, python)] = chosen
    return result


# --------------------------------------------------------------------------------------
# Staging and Blender's packaging tool

def manifest_with(text: str, wheels: list[str], platforms: list[str]) -> str:
    """Manifest text with `platforms` replaced and a generated top-level `wheels` list."""
    plat_line = "platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]"
    text, n = re.subn(r"(?ms)^platforms\s*=\s*\[.*?\]", plat_line, text, count=1)
    if n != 1:
        raise BuildError("blender_manifest.toml has no `platforms = [...]` list")
    if re.search(r"(?m)^wheels\s*=", text):
        raise BuildError("blender_manifest.toml must not list wheels: build.py generates them")
    block = ("# Generated by build.py.\nwheels = [\n"
             + "".join(f'  "./wheels/{w}",\n' for w in wheels) + "]\n\n")
    m = re.search(r"(?m)^\[", text)  # top-level keys must come before the first table
    at = m.start() if m else len(text)
    return text[:at] + block + text[at:]


def stage(source: Path, manifest_text: str, wheels: list[Wheel], stage_dir: Path) -> None:
    shutil.copytree(source, stage_dir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    (stage_dir / "blender_manifest.toml").write_text(manifest_text, encoding="utf-8")
    (stage_dir / "wheels").mkdir()
    for w in wheels:
        shutil.copy2(w.path, stage_dir / "wheels" / w.filename)


def run_tool(py_cmd: list[str], *args: str) -> str:
    proc = subprocess.run([*py_cmd, *args], check=False, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or re.search(r"(?m)^(FATAL_)?ERROR", out):
        raise SystemExit(f"error: blender_ext.py {args[0]} failed (exit {proc.returncode}):\n{out}")
    return out


def is_inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def build(args: argparse.Namespace) -> None:
    t0 = time.monotonic()
    source = Path(args.source).resolve()
    out = Path(args.out).resolve()
    if not (source / "__init__.py").is_file():
        raise BuildError(f"{source} has no __init__.py: pass the add-on package with --source DIR")
    if is_inside(out, source):
        raise BuildError(f"--out {out} is inside the add-on source {source}: it would be packed "
                         "into the next zip; choose a folder outside it")
    manifest_text = MANIFEST.read_text(encoding="utf-8")
    manifest = tomllib.loads(manifest_text)
    declared = list(manifest.get("platforms") or [])
    if not declared:
        raise BuildError("blender_manifest.toml declares no platforms")
    platforms = list(dict.fromkeys(args.platform or declared))
    for p in platforms:
        if p not in declared:
            raise BuildError(f"--platform {p} is not in blender_manifest.toml platforms {declared}")
        if p not in PLATFORM_TAGS:
            raise BuildError(f"build.py knows no wheel tags for platform {p}")

    if args.blender_ext:
        ext = Path(args.blender_ext).resolve()
    else:
        sys.path.insert(0, str(ROOT))
        from tools.bpy_env import blender_ext_path
        ext = blender_ext_path()
    if not ext.is_file():
        raise BuildError(f"blender_ext.py not found at {ext}")
    tags_file = ext.parents[3] / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    tags_args = [f"--valid-tags={tags_file}"] if tags_file.is_file() else []
    tool = [sys.executable, str(ext)]

    reqs = read_lock()
    per_target = resolve_wheels(reqs, platforms, args.offline)
    all_wheels = sorted({w.path: w for ws in per_target.values() for w in ws}.values(),
                        key=lambda w: w.filename)
    log(f"{len(all_wheels)} distinct wheels for {len(platforms)} platform(s) x CPython "
        f"{'/'.join(PYTHONS)} ({time.monotonic() - t0:.1f} s)")

    out.mkdir(parents=True, exist_ok=True)
    prefix = f"{manifest['id']}-{manifest['version']}"
    for old in out.glob(f"{prefix}*.zip"):
        old.unlink()

    with tempfile.TemporaryDirectory(prefix="nanobanana-stage-") as tmp:
        stage_dir = Path(tmp) / "stage"
        if is_inside(stage_dir, ROOT) or is_inside(stage_dir, source):
            raise BuildError(f"the temp dir {tmp} is inside the source tree: set TMPDIR elsewhere")
        text = manifest_with(manifest_text, [w.filename for w in all_wheels], platforms)
        stage(source, text, all_wheels, stage_dir)
        run_tool(tool, "build", "--source-dir", str(stage_dir), "--output-dir", str(out),
                 "--split-platforms", *tags_args)

    summary = []
    for platform in platforms:
        zip_path = out / f"{prefix}-{platform.replace('-', '_')}.zip"
        if not zip_path.is_file():
            raise SystemExit(f"error: blender_ext.py did not produce {zip_path.name}")
        run_tool(tool, "validate", *tags_args, str(zip_path))
        with zipfile.ZipFile(zip_path) as zf:
            names = set(zf.namelist())
        expected = {f"wheels/{w.filename}" for py in PYTHONS for w in per_target[(platform, py)]}
        lost = sorted(expected - names)
        if lost:
            raise SystemExit(f"error: {zip_path.name} lacks {lost[0]} (Blender's platform filter "
                             "dropped it: its platform tag maps to another platform)")
        n = sum(1 for nm in names if nm.startswith("wheels/") and nm.endswith(".whl"))
        summary.append((zip_path, n))
    run_tool(tool, "server-generate", "--repo-dir", str(out), "--html")

    print()
    for zip_path, n in summary:
        print(f"  {zip_path.name:<40} {zip_path.stat().st_size / 1e6:6.1f} MB  {n:3d} wheels")
    print(f"  {'index.json + index.html':<40}")
    print(f"built {len(summary)} zip(s) into {out} in {time.monotonic() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Build the Nano Banana extension zips (one per platform) and a static "
                    "extension repository (index.json/index.html). With no options: download "
                    "missing wheels for every platform in blender_manifest.toml and CPython "
                    f"{' and '.join(PYTHONS)}, build, validate, and index into dist/.")
    ap.add_argument("--platform", action="append", metavar="P",
                    help="build only this platform (repeatable), one of: "
                         + ", ".join(PLATFORM_TAGS))
    ap.add_argument("--offline", action="store_true",
                    help="no network: use only the wheels already in vendor/wheels/")
    ap.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                    help="output folder for zips and the repository index (default: dist/)")
    ap.add_argument("--source", default=str(DEFAULT_SOURCE), metavar="DIR",
                    help="add-on package to pack (default: nanobanana_addon/)")
    ap.add_argument("--blender-ext", metavar="PATH",
                    help="Blender's blender_ext.py (default: from the cached PyPI bpy, "
                         "see tools/bpy_env.py)")
    ap.add_argument("--lock", action="store_true",
                    help="regenerate vendor/requirements.txt from vendor/requirements.in "
                         "with uv (hashed, universal) and exit")
    args = ap.parse_args(argv)
    try:
        if args.lock:
            lock()
        else:
            build(args)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
