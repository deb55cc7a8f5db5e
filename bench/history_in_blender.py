"""History panel benchmark (issue 14); runs under a PyPI-bpy Python, started by bench/run.py.

For a history of 0 / 5,000 / 50,000 synthetic entries (bench/synthetic_history.py, cached
under /tmp), in real Blender with the built add-on: the cold rebuild of the index (and the
longest panel draw while it runs), panel draw, draw after a job lands, each search
keystroke, "this file only", delete, paging, and the memory the panel and index hold.
The old way (every sidecar re-read: what each landing, keystroke and delete cost before)
is measured in the same run. Prints figures; never fails on timing.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench"), str(ROOT / "tests" / "blender")]
from tools.blender_session import MODULE, install, isolate, uninstall  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--zip", required=True)
ap.add_argument("--profile", required=True)
ap.add_argument("--repeats", type=int, default=7)
ap.add_argument("--out", required=True)
ap.add_argument("--blender", default="")
ap.add_argument("--smoke", action="store_true")
ap.add_argument("--counts", default="")
ARGS = ap.parse_args()
isolate(ARGS.profile)

import bpy  # noqa: E402, I001
import synthetic_history  # noqa: E402
from ui_double import Layout  # noqa: E402

now = time.perf_counter
ROWS: list[dict] = []
COUNTS = [int(c) for c in ARGS.counts.split(",")] if ARGS.counts else ([0, 300] if ARGS.smoke else [0, 5000, 50000])
TYPED = "weathered stone"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def stats(samples: list[float]) -> dict:
    return {"median_ms": ms(statistics.median(samples)), "max_ms": ms(max(samples)), "n": len(samples)}


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def row(pid: str, what: str, figure: str, target: str, met: bool | None, data: dict) -> None:
    ROWS.append({"id": pid, "what": what, "figure": figure, "target": target, "met": bool(met), **data})
    print(f"[bench] {pid}: {figure}", flush=True)


install(ARGS.zip)
index_loaded_at_enable = f"{MODULE}.core.history_index" in sys.modules
gallery = importlib.import_module(f"{MODULE}.blender.gallery")     # loaded on first draw
runtime = importlib.import_module(f"{MODULE}.blender.runtime")
gallery.WAKE_NOW = False       # as in the UI: the panel's timer wakes the index's worker
TICKS: list[float] = []
bpy.ops.wm.read_homefile(use_empty=True)
s = bpy.context.scene.nanobanana


def draw() -> tuple[float, Layout]:
    layout = Layout()
    t0 = now()
    gallery.draw(layout, bpy.context)
    return now() - t0, layout


def timed(fn) -> float:
    t0 = now()
    fn()
    return now() - t0


def landing(hist, png: bytes) -> None:
    """What a finished job writes (on its worker thread) before the pump applies it."""
    req_mod = importlib.import_module(f"{MODULE}.core.request")
    request = req_mod.GenerationRequest(model="gemini-nano-banana-2.1", prompt="bench landing: weathered stone")
    result = req_mod.GenerationResult(model="gemini-nano-banana-2.1",
                                      images=[req_mod.OutputImage(png, "image/png", 64, 64)],
                                      usage=req_mod.Usage(10, 1290, 0, 1300), cost_usd=0.039)
    t = threading.Thread(target=hist.record, args=(request,), kwargs={"result": result})
    t.start()
    t.join()


def tick() -> None:
    """The panel's timer firing (Blender calls it from its event loop)."""
    t0 = now()
    gallery._poll()
    TICKS.append(now() - t0)


def wait_idle(index, timeout: float = 600.0) -> None:
    end = time.monotonic() + timeout
    tick()
    while index.busy and time.monotonic() < end:
        time.sleep(0.02)
        tick()


def old_scan(hist, search: str = "") -> tuple[float, list]:
    """The pre-index panel refresh: every sidecar parsed, then the folder size."""
    t0 = now()
    found = hist.scan(search=search, with_images_only=True)
    sum(p.stat().st_size for p in hist.root.glob("*/*") if p.is_file())
    return now() - t0, found


results: dict = {}
for count in COUNTS:
    index_module = sys.modules.get(f"{MODULE}.core.history_index")
    if index_module is not None:
        index_module.close_all()
    gallery.invalidate()
    s.gallery_search, s.gallery_this_file = "", False
    root = runtime.history_root()
    synthetic_history.materialize(count, root)
    png = next(iter(sorted(root.glob("*/*.png"))), None)
    png_bytes = png.read_bytes() if png else synthetic_history._png(__import__("random").Random(1), 64)
    hist = runtime.history()
    r: dict = {"entries": count}

    # -- cold rebuild: the index is missing; the panel keeps drawing meanwhile
    gc.collect()
    rss0 = rss()
    t0 = now()
    during, saw_indexing = [], False
    first, layout = draw()          # starts the rebuild on a worker thread
    during.append(first)
    saw_indexing = "Indexing" in layout.text()
    index = hist.index
    while index.busy:
        time.sleep(0.05)
        tick()
        d, layout = draw()
        during.append(d)
        saw_indexing = saw_indexing or "Indexing" in layout.text()
    r["rebuild_s"] = round(now() - t0, 2)
    r["draw_during_rebuild"] = stats(during)
    r["indexing_shown"] = saw_indexing
    r["index_mb"] = round(os.path.getsize(index.path) / 1e6, 1) if index.path.exists() else 0.0

    # -- steady state: panel draw (nothing changed)
    draw()
    wait_idle(index)
    r["draw"] = stats([draw()[0] for _ in range(ARGS.repeats * 5)])

    # -- a job lands (written by its thread), then the pump invalidates and the panel redraws
    after_landing = []
    for _ in range(ARGS.repeats):
        landing(hist, png_bytes)
        gallery.invalidate()
        after_landing.append(draw()[0])
        wait_idle(index)
    r["draw_after_landing"] = stats(after_landing)

    # -- search as you type: each keystroke sets the property and redraws (its rows), and
    # the redraw it asks for follows (the count): two frames, each timed
    keys, counts = [], []
    for _ in range(max(1, ARGS.repeats // 3)):
        typed = [TYPED[:i] for i in range(1, len(TYPED) + 1)] + [TYPED[:i] for i in range(len(TYPED) - 1, -1, -1)]
        for text in typed:                                          # typed, then erased
            keys.append(timed(lambda text=text: (setattr(s, "gallery_search", text), draw())))
            counts.append(draw()[0])
    r["keystroke"] = stats(keys)
    r["count_frame"] = stats(counts)
    r["keystroke_frames"] = stats(keys + counts)
    s.gallery_search = TYPED
    draw()
    draw()
    r["matches"] = gallery._view["count"]
    s.gallery_search = ""

    # -- this file only (an unsaved file: the results made without a saved .blend)
    r["this_file_toggle"] = stats([timed(lambda v=v: (setattr(s, "gallery_this_file", v), draw()))
                                   for v in [True, False] * ARGS.repeats])

    # -- paging (thumbnails of rows that scroll away are freed)
    pages = [timed(lambda: (bpy.ops.nanobanana.history_page(step=1), draw())) for _ in range(10)]
    r["page"] = stats(pages)
    r["previews_held"] = len(gallery._previews) if gallery._previews is not None else 0
    gallery._view["offset"] = 0
    draw()

    # -- delete the first shown result (the operator without its confirm popup) and redraw
    deletes = []
    for _ in range(ARGS.repeats if count else 0):
        entry = gallery._view["entries"][0]
        deletes.append(timed(lambda e=entry: (bpy.ops.nanobanana.history_delete(entry_id=e.id), draw())))
        wait_idle(index)                       # blobs are collected on the worker

    r["delete"] = stats(deletes) if deletes else None

    # -- memory held: what the panel keeps between draws, and the process as a whole
    index_module = importlib.import_module(f"{MODULE}.core.history_index")
    index_module.close_all()
    gallery.invalidate()
    gc.collect()
    tracemalloc.start()
    heap0 = tracemalloc.get_traced_memory()[0]
    draw()
    wait_idle(runtime.history().index)
    draw()
    for i in range(1, len(TYPED) + 1):
        s.gallery_search = TYPED[:i]
        draw()
    s.gallery_search = ""
    draw()
    gc.collect()
    r["python_heap_held_mb"] = round((tracemalloc.get_traced_memory()[0] - heap0) / 1e6, 2)
    tracemalloc.stop()
    r["rss_growth_mb"] = round((rss() - rss0) / 1e6, 1)

    # -- the old way, same run: every landing / keystroke / delete re-read every sidecar
    if count:
        n_old = 1 if count > 10000 else max(1, ARGS.repeats // 3)
        old = [old_scan(hist)[0] for _ in range(n_old)]
        gc.collect()
        tracemalloc.start()
        heap0 = tracemalloc.get_traced_memory()[0]
        _, held = old_scan(hist)
        r["old_python_heap_held_mb"] = round((tracemalloc.get_traced_memory()[0] - heap0) / 1e6, 1)
        tracemalloc.stop()
        del held
        r["old_rescan"] = stats(old)
    r["timer_tick"] = stats(TICKS)
    TICKS.clear()
    results[count] = r
    print(f"[bench] history {count}: {json.dumps(r)}", flush=True)

for count, r in results.items():
    old = r.get("old_rescan")
    vs = f" (old rescan {old['median_ms']} ms each)" if old else ""
    row(f"H{count}", f"history panel at {count:,} entries",
        f"draw {r['draw']['median_ms']} ms (max {r['draw']['max_ms']}), after a landing "
        f"{r['draw_after_landing']['median_ms']} ms, keystroke {r['keystroke']['median_ms']} ms "
        f"(max {r['keystroke']['max_ms']}) and the frame after it that counts {r['count_frame']['median_ms']} ms "
        f"(max {r['count_frame']['max_ms']}), delete {r['delete']['median_ms'] if r['delete'] else '-'} ms{vs}; "
        f"held {r['python_heap_held_mb']} MB Python heap"
        + (f" (old {r['old_python_heap_held_mb']} MB)" if old else "")
        + f"; cold rebuild {r['rebuild_s']} s, longest draw meanwhile {r['draw_during_rebuild']['max_ms']} ms"
        + f"; panel timer tick {r['timer_tick']['median_ms']} ms (max {r['timer_tick']['max_ms']})",
        "draw <= 5 ms, every keystroke frame <= 10 ms, delete <= 10 ms, held <= 10 MB",
        r["draw"]["median_ms"] <= 5 and r["keystroke_frames"]["max_ms"] <= 10
        and (r["delete"] is None or r["delete"]["median_ms"] <= 10) and r["python_heap_held_mb"] <= 10, r)

uninstall()
machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
load = os.getloadavg()
report = {"blender": bpy.app.version_string, "machine": machine, "load_avg": [round(x, 2) for x in load],
          "repeats": ARGS.repeats, "smoke": ARGS.smoke, "date": time.strftime("%Y-%m-%d"),
          "history_index_imported_at_enable": index_loaded_at_enable, "rows": ROWS}
Path(ARGS.out).parent.mkdir(parents=True, exist_ok=True)
Path(ARGS.out).write_text(json.dumps(report, indent=1, default=float))
print(f"\nNano Banana history benchmark — Blender {bpy.app.version_string}, {machine}, load {load[0]:.1f}; "
      f"history index imported at enable: {'yes' if index_loaded_at_enable else 'no'}\n")
print("| id | measure | figure | target | met |")
print("|---|---|---|---|---|")
for r_ in ROWS:
    print(f"| {r_['id']} | {r_['what']} | {r_['figure']} | {r_['target']} | {'yes' if r_['met'] else 'no'} |")
print(f"\nJSON: {ARGS.out}")
