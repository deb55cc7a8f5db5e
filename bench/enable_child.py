"""P3's fresh process: started by bench/in_blender.py under the same PyPI-bpy Python with
the profile the add-on is installed in. Imports bpy (Blender starts; the add-on is not
enabled), then times what enabling costs: import of the add-on's package + register().
Prints one JSON line: wall and main-thread CPU milliseconds (CPU time is what the load of
other processes does not inflate), the garbage collector's share, the add-on's modules
loaded, heavy modules loaded.

Blender's start-up (`import bpy`) leaves Python's collector counters at their thresholds
(measured (121, 10, 10) with thresholds (700, 10, 10)): the next few hundred allocations by
*any* code trigger a full collection over Blender's objects (12-25 ms here). That pass is
paid first, outside the window, and reported as `pending_gc_ms`; a collection our own
allocations trigger inside the window is still counted (`gc_ms`).

`--no-bytecode`: no __pycache__ is read or written (the caller also deletes any), so every
source the add-on loads is compiled, as on the first start after an install.
"""
from __future__ import annotations

import gc
import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
NO_BYTECODE = "--no-bytecode" in sys.argv
sys.dont_write_bytecode = NO_BYTECODE
from tools.blender_session import MODULE, isolate  # noqa: E402

isolate(sys.argv[1])
import bpy  # noqa: E402, F401  - Blender's start-up is not part of enabling

_gc: list[tuple[float, float, int]] = []
_gc_t = [0.0, 0.0]


def _on_gc(phase: str, info: dict) -> None:
    """Time Python's garbage collector takes inside the measured window (wall, CPU)."""
    if phase == "start":
        _gc_t[:] = time.perf_counter(), time.thread_time()
    else:
        _gc.append(((time.perf_counter() - _gc_t[0]) * 1000, (time.thread_time() - _gc_t[1]) * 1000,
                    info["generation"]))


t0 = time.perf_counter()
gc.collect()                    # Blender's pending full collection (see above)
pending_gc = time.perf_counter() - t0
gc.callbacks.append(_on_gc)
before = set(sys.modules)
t0, c0 = time.perf_counter(), time.thread_time()
module = importlib.import_module(MODULE)
module.register()
elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
loaded = sorted(m for m in set(sys.modules) - before if m.startswith(MODULE + "."))
heavy = sorted(m for m in ("google.genai", "PIL", "httpx", "numpy", "sqlite3") if m in set(sys.modules) - before)
gc.callbacks.remove(_on_gc)
# What moved out of enabling is paid on first use: the pump's first timer tick (1 s after
# enable in the UI) loads the job-side modules; the first call into each registered class
# loads its code (lazy.py). Both are timed here, all of it at once, as a first panel draw
# and a few first clicks would pay it.
t0 = time.perf_counter()
importlib.import_module(MODULE + ".blender.pump")._tick()
first_tick = time.perf_counter() - t0
lazy = sys.modules.get(MODULE + ".blender.lazy")
t0 = time.perf_counter()
for cls in list(getattr(lazy, "_PENDING", ())):
    lazy.complete(cls)
first_use = time.perf_counter() - t0
module.unregister()
print(json.dumps({"ms": round(elapsed * 1000, 2), "cpu_ms": round(cpu * 1000, 2),
                  "first_tick_ms": round(first_tick * 1000, 2),
                  "pending_gc_ms": round(pending_gc * 1000, 2),
                  "first_use_all_ms": round(first_use * 1000, 2), "gc_ms": round(sum(g[0] for g in _gc), 2),
                  "gc_cpu_ms": round(sum(g[1] for g in _gc), 2), "gc_runs": len(_gc),
                  "gc_generations": [g[2] for g in _gc], "modules": [m[len(MODULE) + 1:] for m in loaded],
                  "other_modules": len(set(sys.modules) - before) - len(loaded) - 1, "heavy": heavy}))
