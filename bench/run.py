#!/usr/bin/env python3
"""Benchmark command: `python3 bench/run.py [--blender 4.5.15] [--repeats 7] [--smoke]
[--case all|main|history]`.

Runs bench/in_blender.py (P1-P6) and bench/history_in_blender.py (the History panel at
0 / 5,000 / 50,000 entries) inside a real headless Blender (cached PyPI bpy venv), each
with an isolated profile, on the built linux-x64 zip (P1-P6 against the fake Gemini
server). Prints tables of medians and ratios measured side by side in one process, and
writes JSON to bench/results/latest.json and latest-history.json. Never fails on timing:
figures, not tests.
`--case batch`: bench/batches_in_blender.py (B1-B3: a 200-request batch from the panel,
the CLI vs the Python API), JSON in latest-batch.json.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.bpy_env import BLENDER_VERSIONS, ensure_bpy  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blender", default="4.5.15", choices=BLENDER_VERSIONS)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--latency", type=float, default=2.0, help="server latency for P4 (s)")
    ap.add_argument("--jobs", type=int, default=100, help="consecutive jobs for P6")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes and counts (keeps the code working in CI)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    ap.add_argument("--case", choices=["all", "main", "history", "batch"], default="all")
    ap.add_argument("--real-blender", action="store_true",
                    help="--case batch: also time the CLI in the real Blender program (root)")
    ap.add_argument("--history-counts", default="", help="e.g. 0,5000 (default 0,5000,50000)")
    ap.add_argument("--only", default="", help="main case: these ids only (P3 always runs), e.g. P4,P7,P11")
    args = ap.parse_args()
    zips = sorted((ROOT / "dist").glob("nanobanana-*-linux_x64.zip"))
    if not zips:
        if subprocess.run([sys.executable, str(ROOT / "build.py"), "--platform", "linux-x64"]).returncode:
            return 1
        zips = sorted((ROOT / "dist").glob("nanobanana-*-linux_x64.zip"))
    py = ensure_bpy(args.blender)
    code = 0
    if args.case in ("all", "main"):
        with tempfile.TemporaryDirectory(prefix="nb-bench-") as profile:
            cmd = [str(py), str(ROOT / "bench" / "in_blender.py"), "--zip", str(zips[-1]),
                   "--profile", profile, "--repeats", str(args.repeats), "--latency", str(args.latency),
                   "--jobs", str(args.jobs), "--out", args.out, "--blender", args.blender]
            if args.smoke:
                cmd.append("--smoke")
            if args.only:
                cmd += ["--only", args.only]
            code |= subprocess.run(cmd, cwd=ROOT, env=dict(os.environ)).returncode
    if args.case in ("all", "history"):
        out = str(Path(args.out).with_name(Path(args.out).stem + "-history.json"))
        with tempfile.TemporaryDirectory(prefix="nb-bench-") as profile:
            cmd = [str(py), str(ROOT / "bench" / "history_in_blender.py"), "--zip", str(zips[-1]),
                   "--profile", profile, "--repeats", str(args.repeats), "--out", out,
                   "--blender", args.blender, "--counts", args.history_counts]
            if args.smoke:
                cmd.append("--smoke")
            code |= subprocess.run(cmd, cwd=ROOT, env=dict(os.environ)).returncode
    if args.case in ("all", "batch"):
        out = str(Path(args.out).with_name(Path(args.out).stem + "-batch.json"))
        with tempfile.TemporaryDirectory(prefix="nb-bench-") as profile:
            cmd = [str(py), str(ROOT / "bench" / "batches_in_blender.py"), "--zip", str(zips[-1]),
                   "--profile", profile, "--repeats", str(min(args.repeats, 3)), "--out", out,
                   "--blender", args.blender]
            cmd += ["--smoke"] if args.smoke else []
            cmd += ["--real-blender"] if args.real_blender else []
            code |= subprocess.run(cmd, cwd=ROOT, env=dict(os.environ)).returncode
    return code


if __name__ == "__main__":
    sys.exit(main())
