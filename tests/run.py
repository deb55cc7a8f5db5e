#!/usr/bin/env python3
"""The whole test suite, from a fresh clone: `python3 tests/run.py`.

Owns the order and the environments: a cached dev venv (pinned tools + the locked
runtime deps) for ruff, mypy and the plain pytest suites (core, fake server, packaging);
then the real-Blender suite once per pinned Blender version (PyPI bpy venvs, cached
outside the clone by version; CPython 3.11 for 4.2-5.0, 3.13 for 5.1+), each on the built
linux-x64 zip, and the benchmark smoke run on each of them. Builds first unless told
not to. Ends with one 'N passed, N failed' line; exits non-zero on any failure.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.bpy_env import BLENDER_VERSIONS, cache_root, ensure_bpy, find_python, find_python311, python_for  # noqa: E402

DEV_REQS = ROOT / "tests" / "requirements-dev.txt"
LOCK = ROOT / "vendor" / "requirements.txt"
PLAIN_SUITES = ["tests/core", "tests/fake_gemini_selftest", "tests/packaging"]


def sh(cmd: list[str], **kw) -> int:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kw).returncode


def dev_python() -> Path:
    digest = hashlib.sha256(DEV_REQS.read_bytes() + LOCK.read_bytes()).hexdigest()[:12]
    venv = cache_root() / f"dev-{digest}"
    py = venv / "bin" / "python"
    if not (venv / ".ok").exists():
        print(f"[run] creating dev venv {venv}", flush=True)
        subprocess.run([find_python311(), "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "--require-hashes", "-r", str(LOCK)], check=True)
        subprocess.run([*pip, "-r", str(DEV_REQS)], check=True)
        (venv / ".ok").write_text("ok\n")
    return py


def pytest_run(py: Path, label: str, paths: list[str], env: dict | None = None) -> tuple[int, int, int]:
    """Run pytest; return (passed, failed, skipped) from its junit report."""
    with tempfile.TemporaryDirectory(prefix="nb-junit-") as tmp:
        report = Path(tmp) / "junit.xml"
        print(f"\n=== {label} ===", flush=True)
        code = sh([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                   *paths], env=env)
        if not report.exists():
            return 0, 1, 0
        suite = ET.parse(report).getroot()
        suites = [suite] if suite.tag == "testsuite" else list(suite)
        total = sum(int(s.get("tests", 0)) for s in suites)
        failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
        skipped = sum(int(s.get("skipped", 0)) for s in suites)
        if code not in (0, 5) and failed == 0:
            print(f"[run] {label}: pytest exited with {code} although no test failed "
                  "(crash or hang at exit?)", flush=True)
            failed = 1   # pytest itself failed (collection, crash at exit)
        return total - failed - skipped, failed, skipped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blender", action="append", metavar="VERSION", choices=BLENDER_VERSIONS,
                    help=f"Blender version to test on, repeatable (default: all of "
                         f"{', '.join(BLENDER_VERSIONS)})")
    ap.add_argument("--skip-build", action="store_true", help="use the zips already in dist/")
    ap.add_argument("--no-blender", action="store_true", help="skip the real-Blender suite")
    ap.add_argument("--no-static", action="store_true", help="skip ruff and mypy")
    ap.add_argument("--no-bench", action="store_true", help="skip the benchmark smoke run")
    args = ap.parse_args()
    versions = list(dict.fromkeys(args.blender or BLENDER_VERSIONS))
    if not args.no_blender:   # a missing CPython for bpy stops the run now, not midway
        for python in sorted({python_for(v) for v in versions}):
            find_python(python)
    started = time.monotonic()
    passed = failed = skipped = 0
    py = dev_python()

    if not args.no_static:
        for label, cmd in (("ruff", [str(py), "-m", "ruff", "check", "."]),
                           ("mypy (fake-bpy-module stubs)", [str(py), "-m", "mypy"])):
            print(f"\n=== {label} ===", flush=True)
            if sh(cmd) != 0:
                failed += 1
            else:
                passed += 1

    if not args.skip_build and sh([sys.executable, "build.py"]) != 0:
        print("[run] build failed", flush=True)
        return 1

    p, f, s = pytest_run(py, "core, fake Gemini, packaging", PLAIN_SUITES)
    passed, failed, skipped = passed + p, failed + f, skipped + s

    timings: list[str] = []
    if not args.no_blender:
        zips = sorted((ROOT / "dist").glob("nanobanana-*-linux_x64.zip"))
        if not zips:
            print("[run] no linux-x64 zip in dist/", flush=True)
            return 1
        for version in versions:
            bpy_py = ensure_bpy(version)
            env = dict(os.environ, NANOBANANA_ZIP=str(zips[-1]))
            t0 = time.monotonic()
            with tempfile.TemporaryDirectory(prefix=f"nb-profile-{version}-") as profile:
                env["NANOBANANA_TEST_PROFILE"] = profile
                p, f, s = pytest_run(bpy_py, f"real Blender {version} (PyPI bpy) on {zips[-1].name}",
                                     ["tests/blender"], env)
            timings.append(f"Blender {version}: {p} passed, {f} failed, {s} skipped "
                           f"in {time.monotonic() - t0:.0f} s")
            passed, failed, skipped = passed + p, failed + f, skipped + s

    if not args.no_blender and not args.no_bench:
        for version in versions:
            print(f"\n=== benchmark smoke run on Blender {version} (figures are not checked) ===",
                  flush=True)
            bench = [sys.executable, "bench/run.py", "--smoke", "--repeats", "1", "--blender", version,
                     "--out", str(Path(tempfile.gettempdir()) / "nanobanana-bench-smoke.json")]
            t0 = time.monotonic()
            ok = sh(bench) == 0
            timings.append(f"bench smoke {version}: {'ok' if ok else 'FAILED'} "
                           f"in {time.monotonic() - t0:.0f} s")
            passed, failed = passed + ok, failed + (not ok)

    if timings:
        print("\n[run] real Blender, per version:\n  " + "\n  ".join(timings))
    print(f"\n[run] finished in {time.monotonic() - started:.0f} s")
    line = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
