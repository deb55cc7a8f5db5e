"""A synthetic history folder of N entries for the benchmark, shaped like History.record's
output: day folders, one small PNG + one JSON sidecar per result (failures: sidecar only),
edit inputs with their 96 px thumbnail, conversations with blobs and thought signatures.

Written fast (no fsync, a few pre-encoded images) and cached under /tmp keyed by count and
layout version; `materialize()` gives each run its own hard-linked copy to modify.
Runs under any Python with Pillow (the benchmark's Blender Python, or the dev venv).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import shutil
import time
from pathlib import Path

VERSION = 1
CACHE = Path(os.environ.get("NB_BENCH_CACHE", "/tmp/nanobanana-bench")).resolve()
PER_DAY = 200
MODELS = ("gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image",
          "gemini-2.5-flash-image")
_COMMON = ("stone wall brick moss rust metal plate wood oak pine marble tile seamless texture "
           "weathered painted concrete cracked dirt grass sand rock cliff fabric leather gold "
           "silver copper worn old new bright dark red green blue night dusk sunny foggy panel "
           "hull organic skin scales bark leaf roof floor cobblestone asphalt ice snow water "
           "lava clay plaster tiles hexagonal damaged mossy wet dry polished rough").split()
_SYL = ("ka", "ri", "to", "men", "sa", "lo", "ver", "qu", "an", "el", "dor", "ti", "gra", "nu",
        "pel", "os", "ur", "fa", "zi", "mon", "bri", "cal", "de", "ny")


def _vocabulary(rng: random.Random) -> list[str]:
    words = list(_COMMON)
    seen = set(words)
    while len(words) < 2500:
        w = "".join(rng.choice(_SYL) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def _png(rng: random.Random, side: int) -> bytes:
    from PIL import Image
    img = Image.new("RGB", (side, side))
    base = [rng.randint(40, 220) for _ in range(3)]
    img.putdata([tuple(max(0, min(255, c + rng.randint(-25, 25))) for c in base)
                 for _ in range(side * side)])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def build(count: int, dest: Path, seed: int = 14) -> None:
    rng = random.Random(seed)
    words = _vocabulary(rng)
    weights = [1.0 / (i + 1) for i in range(len(words))]          # Zipf, like real prompts
    images = [_png(rng, 64) for _ in range(8)]                      # ~10 KB results
    thumbs = [base64.b64encode(_png(rng, 40)).decode("ascii") for _ in range(4)]
    blends = [f"/home/artist/projects/shot_{i:03d}/scene.blend" for i in range(60)] + [""] * 20
    blob_dir = dest / "blobs"
    blob_dir.mkdir(parents=True, exist_ok=True)
    blob_names = []
    for i in range(40):
        data = _png(rng, 24) + bytes([i])
        sha = hashlib.sha256(data).hexdigest()
        (blob_dir / sha).write_bytes(data)
        blob_names.append(sha)
    start = time.mktime((2025, 1, 1, 9, 0, 0, 0, 0, -1))
    signature = base64.b64encode(rng.randbytes(240)).decode("ascii")
    for n in range(count):
        ts = start + (n // PER_DAY) * 86400 + (n % PER_DAY) * 120 + rng.random()
        t = time.localtime(ts)
        entry_id = time.strftime("%Y%m%d-%H%M%S", t) + "-" + f"{n:06x}"
        day = dest / entry_id[:8]
        if n % PER_DAY == 0:
            day.mkdir(parents=True, exist_ok=True)
        prompt = " ".join(rng.choices(words, weights, k=rng.randint(6, 40)))
        model = rng.choice(MODELS)
        edit = rng.random() < 0.35
        failed = rng.random() < 0.08
        meta: dict = {"schema": 1, "id": entry_id, "created_ts": ts,
                      "created": time.strftime("%Y-%m-%d %H:%M:%S", t), "kind": "edit" if edit else "generate",
                      "prompt": prompt, "model": model,
                      "settings": {"aspect_ratio": rng.choice(["1:1", "16:9", "AUTO"]), "image_size": "1K",
                                   "variations": 1, "seamless": rng.random() < 0.5},
                      "inputs": ([{"role": "edit", "name": "Texture.png", "sha256": blob_names[n % 40],
                                   "bytes": 812345, "thumbnail_png": thumbs[n % 4]}] if edit else []),
                      "turns_before": 0, "blend_file": rng.choice(blends)}
        if failed:
            meta.update({"error": {"kind": "image_refused", "message": "Gemini refused to make this image."},
                         "text": "I can't help with that."})
        else:
            name = f"{entry_id}.png"
            (day / name).write_bytes(images[n % len(images)])
            user_parts: list[dict] = [{"text": prompt}]
            if edit:
                user_parts.append({"mime_type": "image/png", "blob": blob_names[n % 40]})
            meta.update({"conversation": [{"role": "user", "parts": user_parts},
                                          {"role": "model", "parts": [{"mime_type": "image/png", "file": name,
                                                                       "signature": signature}]}],
                         "image_file": name, "width": 1024, "height": 1024, "mime_type": "image/png",
                         "text": "", "finish_reason": "STOP", "model_version": model,
                         "usage": {"input_tokens": 12, "output_tokens": 1290, "thinking_tokens": 0,
                                   "total_tokens": 1302},
                         "cost_usd": 0.039, "elapsed_s": round(rng.uniform(4, 20), 3), "attempts": 1})
        (day / f"{entry_id}.json").write_text(json.dumps(meta, indent=1))


def cached(count: int) -> Path:
    """The cached synthetic folder of `count` entries (built on first use)."""
    path = CACHE / f"history-{count}-v{VERSION}"
    if not (path / ".complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        tmp = path.with_name(path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        build(count, tmp)
        (tmp / ".complete").write_text("ok\n")
        tmp.rename(path)
    return path


def materialize(count: int, dest: Path) -> Path:
    """A private copy of the cached folder at `dest` (hard links: fast, the cache stays intact,
    since history files are only ever replaced or unlinked, never rewritten in place)."""
    src = cached(count)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, copy_function=os.link, ignore=shutil.ignore_patterns(".complete", "index.sqlite*"))
    return dest


if __name__ == "__main__":
    import sys
    for c in sys.argv[1:] or ["5000"]:
        t0 = time.perf_counter()
        print(cached(int(c)), f"{time.perf_counter() - t0:.1f} s")
