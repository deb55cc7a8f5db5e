#!/usr/bin/env python3
"""Reading big input files: `python bench/big_inputs.py [--side 16384] [--smoke]`.

Figures, not tests (issue 16): for 16K files on disk (PNG RGB, PNG RGBA, JPEG), the time
and the peak extra memory of `images.prepare_input`, the worker-side step that reads a
file and makes the upload. Each file is measured in a fresh process (its peak RSS,
VmHWM, minus the peak after reading the file), so figures do not mix. Linux only. Runs
in the dev venv (Pillow, no Blender):
`~/.cache/nanobanana-ci/dev-*/bin/python bench/big_inputs.py`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import io, json, sys, time
sys.path.insert(0, sys.argv[2])
from PIL import Image
from nanobanana_addon.core import images

def hwm_kb():   # peak RSS of this process image (ru_maxrss would include the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

data = open(sys.argv[1], "rb").read()
base = hwm_kb()
t0 = time.perf_counter()
out, mime = images.prepare_input(data, name="bench")
took = time.perf_counter() - t0
peak = hwm_kb()
w, h, _ = images.probe(out)
print(json.dumps({"seconds": took, "extra_mb": (peak - base) / 1024,
                  "file_mb": len(data) / 2**20, "sent": f"{w}x{h} {mime} {len(out) / 2**20:.2f} MB"}))
"""


def make_files(side: int, folder: Path) -> dict[str, Path]:
    """A textured 16K image (gradients + a fine pattern, so neither format is trivial)."""
    from PIL import Image, ImageChops
    grad = Image.linear_gradient("L").resize((side, side))
    fine = Image.effect_noise((1024, 1024), 40).resize((side, side), Image.Resampling.NEAREST)
    rgb = Image.merge("RGB", (grad, grad.transpose(Image.Transpose.ROTATE_90), ImageChops.add(grad, fine)))
    del fine
    files = {"PNG RGB": folder / "rgb.png", "JPEG": folder / "rgb.jpg", "PNG RGBA": folder / "rgba.png"}
    rgb.save(files["PNG RGB"], "PNG", compress_level=1)
    rgb.save(files["JPEG"], "JPEG", quality=90)
    rgb.putalpha(grad.transpose(Image.Transpose.ROTATE_180))
    rgb.save(files["PNG RGBA"], "PNG", compress_level=1)
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", type=int, default=16384)
    ap.add_argument("--smoke", action="store_true", help="2048 px files: keeps the script working")
    args = ap.parse_args()
    side = 2048 if args.smoke else args.side
    rows = []
    with tempfile.TemporaryDirectory(prefix="nb-big-") as tmp:
        t0 = time.perf_counter()
        files = make_files(side, Path(tmp))
        print(f"made {side}² files in {time.perf_counter() - t0:.1f} s", flush=True)
        for label, path in files.items():
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(ROOT)], capture_output=True,
                                 text=True, env=dict(os.environ))
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return 1
            fig = json.loads(out.stdout)
            rows.append((label, fig))
    print(f"\n| {side}² file | on disk | prepare_input time | peak extra memory | sent |")
    print("|---|---|---|---|---|")
    for label, fig in rows:
        print(f"| {label} | {fig['file_mb']:.0f} MB | {fig['seconds']:.1f} s | {fig['extra_mb']:.0f} MB | {fig['sent']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
