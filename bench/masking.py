#!/usr/bin/env python3
"""Masked-edit benchmark: `python bench/masking.py [--repeats 7] [--smoke]` (any Python with
NumPy and Pillow, e.g. the dev venv). Pure core, no Blender.

For square originals of 1K, 2K and 4K with natural image statistics (1/f noise,
correlated channels) and a painted ellipse over ~20% of the image, the "model answer" is
the original re-rendered outside the mask, new content inside, shifted by (3, -5) px and
returned at the same size, 1.5x or 0.5x. Prints medians (ms) of:
  check     check_mask on a uint8 mask
  shift     estimate_shift alone
  apply     apply_edit = shift + feather + resample/blend on the mask's box (what a job does)
  align+cmp align_result (whole image) then composite
Target: apply <= 300 ms at 2K. Figures only; nothing here fails on timing.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nanobanana_addon.core import masking, pixels  # noqa: E402

SHIFT = (3, -5)


def natural(h: int, w: int, seed: int) -> np.ndarray:
    """uint8 RGB with a 1/f amplitude spectrum, like photographs and painted textures."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    amp = (1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(h, w))).astype(np.float32)
    planes = []
    for _ in range(3):
        spec = rng.standard_normal((h, w // 2 + 1), np.float32) + 1j * rng.standard_normal((h, w // 2 + 1), np.float32)
        planes.append(np.fft.irfft2(spec * amp, s=(h, w)).astype(np.float32))
    x = np.stack(planes, axis=-1) @ np.array([[1, .6, .4], [.3, 1, .5], [.2, .4, 1]], np.float32).T
    x = (x - x.mean()) / x.std()
    return np.ascontiguousarray(np.clip(128 + 45 * x, 0, 255).astype(np.uint8))


def scene(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(original, mask uint8, edited answer before shift and resize)."""
    original = natural(n, n, 1)
    yy, xx = np.mgrid[0:n, 0:n]
    mask = ((((yy - 0.45 * n) / (0.3 * n)) ** 2 + ((xx - 0.55 * n) / (0.21 * n)) ** 2) <= 1) * np.uint8(255)
    other = natural(n, n, 2)
    rerendered = np.clip(original * np.float32(0.95) + 8, 0, 255).astype(np.uint8)
    return original, mask, np.where(mask[..., None] > 0, other, rerendered)


def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[np.clip(np.arange(h) - dy, 0, h - 1)][:, np.clip(np.arange(w) - dx, 0, w - 1)])


def median_ms(repeats: int, fn, *args, **kw):
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(*args, **kw)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, out


def align_and_composite(original: np.ndarray, answer: np.ndarray, mask: np.ndarray) -> np.ndarray:
    aligned, _shift = masking.align_result(original, answer, mask=mask)
    return masking.composite(original, aligned, masking.feather(mask, masking.default_feather_px(mask.shape)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    args = ap.parse_args()
    sizes, repeats = ([192, 256], 1) if args.smoke else (args.sizes, args.repeats)
    import PIL
    print(f"numpy {np.__version__}, Pillow {PIL.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; median of {repeats} (ms)")
    print(f"{'original':>9} {'answer':>10} {'check':>7} {'shift':>7} {'apply':>7} {'align+cmp':>10}  found")
    for n in sizes:
        original, mask_u8, edited = scene(n)
        t_check, info = median_ms(repeats, masking.check_mask, mask_u8, original.shape)
        for factor in (1.0, 1.5, 0.5):
            m = round(n * factor)
            answer = shifted(edited, *SHIFT)
            answer = answer if m == n else pixels.resize(answer, (m, m))
            t_shift, found = median_ms(repeats, masking.estimate_shift, original, answer, mask=info.mask)
            t_apply, _ = median_ms(repeats, masking.apply_edit, original, answer, info)
            t_full, _ = median_ms(repeats, align_and_composite, original, answer, info.mask)
            print(f"{n:>9} {m:>10} {t_check:>7.0f} {t_shift:>7.0f} {t_apply:>7.0f} {t_full:>10.0f}  {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
