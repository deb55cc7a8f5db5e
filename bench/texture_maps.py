#!/usr/bin/env python3
"""Texture-map benchmark: `python3 bench/texture_maps.py [--repeats 5] [--sizes 1024 2048 4096]`.

Times core/tiling.py (seam check, offline cross blend) and core/pbr.py (full map set, PNG
encoding) on stone-like albedos with natural 1/f statistics, lit unevenly so they do not
tile. Prints medians of N runs; never fails on timing. Runs in the dev venv (NumPy +
Pillow), re-starting itself there when the current Python lacks them.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "core")]

try:
    import numpy as np
    import PIL
except ImportError:     # re-run in the cached dev venv (tests/run.py builds it)
    sys.path.insert(0, str(ROOT / "tests"))
    from run import dev_python
    os.execv(str(dev_python()), [str(dev_python()), *sys.argv])

from texture_samples import stone, with_lighting  # noqa: E402

from nanobanana_addon.core import pbr, tiling  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, float]:
    """(median, min) wall time in ms over `repeats` runs after one warm-up."""
    fn()
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs), min(runs)


def measure(size: int, repeats: int) -> None:
    albedo = with_lighting(stone(size, size, seed=size), strength=0.3)   # RGB uint8, does not tile
    score = tiling.tileability(albedo)
    fixed = tiling.local_cross_blend(albedo)
    after = tiling.tileability(fixed)
    maps = pbr.pbr_maps(fixed)

    def check_and_fallback():
        return None if tiling.tileability(albedo).tiles else tiling.local_cross_blend(albedo)
    few = max(1, repeats // 2)
    figures = {
        "tileability": timed(lambda: tiling.tileability(albedo), repeats),
        "local_cross_blend": timed(lambda: tiling.local_cross_blend(albedo), repeats),
        "check + fallback": timed(check_and_fallback, repeats),
        "pbr_maps (4 maps)": timed(lambda: pbr.pbr_maps(fixed), repeats),
        "pbr_maps, no AO": timed(lambda: pbr.pbr_maps(fixed, ao=False), repeats),
        "PNG set, level 6": timed(lambda: maps.pngs(), few),
        "PNG set, level 1": timed(lambda: maps.pngs(compress_level=1), few),
    }
    mb = {level: sum(len(b) for b in maps.pngs(compress_level=level).values()) / 1e6 for level in (1, 6)}
    print(f"{size} x {size}: seam ratio {score.ratio:.2f} -> {after.ratio:.2f} after the blend "
          f"(tiles: {score.tiles} -> {after.tiles}); PNG set {mb[6]:.1f} MB (level 6), "
          f"{mb[1]:.1f} MB (level 1)")
    for name, (med, low) in figures.items():
        print(f"  {name:<20} {med:8.1f} ({low:.1f})")
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    args = ap.parse_args()
    print(f"numpy {np.__version__}, Pillow {PIL.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; median (min) of {args.repeats} runs, ms "
          f"(PNG: of {max(1, args.repeats // 2)})\n")
    for size in args.sizes:
        measure(size, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
