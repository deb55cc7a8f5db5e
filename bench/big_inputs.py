#!/usr/bin/env python3
"""Reading big input files: `python bench/big_inputs.py [--side 16384] [--smoke]`;
big painted textures in real Blender: `... --painted 4.5.15 [--sides 4096,8192,16384]`.

Figures, not tests (issue 16): for 16K files on disk (PNG RGB, PNG RGBA, JPEG), the time
and the peak extra memory of `images.prepare_input`, the worker-side step that reads a
file and makes the upload. Each file is measured in a fresh process (its peak RSS,
VmHWM, minus the peak after reading the file), so figures do not mix. Linux only. Runs
in the dev venv (Pillow, no Blender):
`~/.cache/nanobanana-ci/dev-*/bin/python bench/big_inputs.py`.

`--painted VERSION` measures an unsaved (dirty) byte and float texture in the `bpy`
module of that version (`~/.cache/nanobanana-ci/bpy-VERSION`), Pillow taken from the
vendored wheel: the main-thread time of `capture.image_input` (what Edit Texture does
on the main thread) and the peak extra memory of the whole send preparation (capture,
then the worker's `pipeline.prepare`), each in a fresh process; "before" is the float
copy (`foreach_get`) the add-on used for every size until issue 16.
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


PAINTED = r"""
import json, sys, time
sys.path[:0] = [sys.argv[4], sys.argv[5]]
import bpy
import numpy as np
from nanobanana_addon.blender import capture
from nanobanana_addon.core import images, pipeline
from nanobanana_addon.core.request import GenerationRequest, JobKind

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

side, kind, way = int(sys.argv[1]), sys.argv[2], sys.argv[3]
small = side // 4      # painted at a quarter, scaled up: Image.scale marks it dirty
img = bpy.data.images.new("painted", small, small, alpha=True, float_buffer=kind == "float")
px = np.zeros((small, small, 4), np.float32)
px[...] = (0.8, 0.3, 0.1, 1.0)
px[: small // 2, : small // 2] = (0.1, 0.2, 0.9, 1.0)
img.pixels.foreach_set(px.ravel())
del px
img.scale(side, side)
assert img.is_dirty
if way == "before":
    capture.LARGE_PIXELS = 1 << 62
open("/proc/self/clear_refs", "w").write("5")      # VmHWM := VmRSS
base = status("VmRSS:")
t0 = time.perf_counter()
inp = capture.image_input(img, "edit")
main_s = time.perf_counter() - t0
req = GenerationRequest(kind=JobKind.EDIT_TEXTURE, prompt="x", model="m", images=[inp])
t1 = time.perf_counter()
out = pipeline.prepare(req).images[0]
worker_s = time.perf_counter() - t1
w, h, mime = images.probe(out.data)
print(json.dumps({"main_s": main_s, "worker_s": worker_s, "extra_mb": (status("VmHWM:") - base) / 1024,
                  "sent": f"{w}x{h} {out.mime_type}", "dirty_after": img.is_dirty}))
"""


def pillow_dir(folder: Path) -> str:
    """Pillow for the bpy venv: the vendored cp311 Linux wheel, unpacked."""
    import zipfile
    wheel = next((ROOT / "vendor" / "wheels").glob("pillow-*-cp311-*manylinux*x86_64*.whl"))
    zipfile.ZipFile(wheel).extractall(folder / "pil")
    return str(folder / "pil")


def painted(version: str, sides: list[int], ways: list[str], kinds: list[str]) -> int:
    py = Path.home() / ".cache" / "nanobanana-ci" / f"bpy-{version}" / "bin" / "python"
    rows = []
    with tempfile.TemporaryDirectory(prefix="nb-paint-") as tmp:
        pil = pillow_dir(Path(tmp))
        for side in sides:
            for kind in kinds:
                for way in ways:
                    out = subprocess.run([str(py), "-c", PAINTED, str(side), kind, way, pil, str(ROOT)],
                                         capture_output=True, text=True)
                    if out.returncode:
                        print(f"{side} {kind} {way}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                        continue
                    fig = json.loads(out.stdout.strip().splitlines()[-1])
                    print(side, kind, way, fig, flush=True)
                    rows.append((side, kind, way, fig))
    print(f"\n| painted texture (Blender {version}) | way | main thread | worker | peak extra memory | sent |")
    print("|---|---|---|---|---|---|")
    for side, kind, way, fig in rows:
        print(f"| {side}² {kind} | {way} | {fig['main_s']:.2f} s | {fig['worker_s']:.2f} s | "
              f"{fig['extra_mb']:.0f} MB | {fig['sent']} |")
    return 0


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
    ap.add_argument("--painted", metavar="VERSION", help="measure unsaved painted textures in bpy VERSION")
    ap.add_argument("--sides", default="4096,8192,16384", help="with --painted: texture sides")
    ap.add_argument("--ways", default="now,before", help="with --painted: now (this code), before (float copy)")
    ap.add_argument("--kinds", default="byte,float", help="with --painted: byte (8-bit) and/or float images")
    args = ap.parse_args()
    if args.painted:
        return painted(args.painted, [int(v) for v in args.sides.split(",")], args.ways.split(","),
                       args.kinds.split(","))
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
