"""Synthetic textures with natural statistics for the tiling / PBR tests and bench/texture_maps.py:
1/f^beta noise (the power spectrum of real surfaces) made with an FFT, so a full period tiles
exactly and a crop of a larger field does not."""
from __future__ import annotations

import numpy as np


def fractal_noise(h: int, w: int, seed: int = 0, beta: float = 2.0) -> np.ndarray:
    """h x w float64 noise, zero mean, unit std, periodic (tiles exactly)."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** (beta / 2)
    spec[0, 0] = 0
    n = np.fft.irfft2(spec, s=(h, w))
    return (n - n.mean()) / n.std()


def stone(h: int, w: int, seed: int = 0, *, tiles: bool = True, channels: int = 3) -> np.ndarray:
    """A stone-like uint8 albedo: fractal tone with fine grain, warm grey. tiles=False crops
    it out of a larger field (natural content, but the edges do not wrap)."""
    H, W = (h, w) if tiles else (h * 3 // 2, w * 3 // 2)
    tone = 0.75 * fractal_noise(H, W, seed, 2.2) + 0.45 * fractal_noise(H, W, seed + 1, 1.2)
    tone = tone[:h, :w] if tiles else tone[H // 5:H // 5 + h, W // 7:W // 7 + w]
    grey = np.clip(0.5 + 0.12 * tone, 0, 1)
    rgb = grey[:, :, None] * np.array([1.06, 0.98, 0.88])
    if channels == 4:
        rgb = np.concatenate([rgb, np.ones((h, w, 1))], axis=2)
    elif channels == 1:
        rgb = grey
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def with_lighting(img: np.ndarray, strength: float = 0.35) -> np.ndarray:
    """The same texture lit unevenly (brighter to the right and towards the top): a
    typical photograph's low-frequency light, which also breaks tiling."""
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    light = 1 + strength * ((x / w - 0.5) + 0.5 * (0.5 - y / h))
    out = img.astype(np.float64) * (light[:, :, None] if img.ndim == 3 else light)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
