"""The batch flow in the real Blender UI (Xvfb), where timers fire: Send as Batch returns at
once, the timer polls the batch while it runs, fetches it when done, places the images
into the open file and ends with the batch's status line. Also the main-thread budget."""
from __future__ import annotations

import json

SCRIPT = r'''
import bpy, importlib, sys, time, json
MOD = "bl_ext.user_default.nanobanana.blender."
out = {"states": [], "ticks": []}
start = time.time()

def finish():
    json.dump(out, open(OUT, "w"))
    bpy.ops.wm.quit_blender()

def kick():
    # Enabling loads only the declarations: the registered timer (classes/batches.TICK)
    # looks up batches._tick on each call, so timing it means wrapping that function.
    b = importlib.import_module(MOD + "batches")
    b.POLL_S = 0.5
    real = b._tick
    def timed():
        t0 = time.perf_counter(); r = real()
        out["ticks"].append((time.perf_counter() - t0) * 1000); return r
    b._tick = timed
    tick = importlib.import_module(MOD + "classes.batches").TICK
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)
    bpy.app.timers.register(tick, first_interval=0.1, persistent=True)
    s = bpy.context.scene.nanobanana
    t = bpy.data.texts.new("props"); t.write("\n".join(f"prop {i}" for i in range(20)))
    s.prompt_text = t
    t0 = time.perf_counter()
    out["submit"] = str(bpy.ops.nanobanana.batch_submit(per_line=True))
    out["submit_ms"] = (time.perf_counter() - t0) * 1000
    bpy.app.timers.register(check, first_interval=0.3)

def check():
    b = importlib.import_module(MOD + "batches")
    recs = [r for r in b.records() if r.total == 20]
    out["states"].append(recs[0].state if recs else "")
    n = len([i for i in bpy.data.images if "nanobanana_entry" in i])
    if recs and recs[0].fetched and n >= 20:
        out["images"] = n
        out["status"] = importlib.import_module(MOD + "runtime").STATE.status.text
        finish(); return None
    if time.time() - start > 90:
        out["timeout"] = n; finish(); return None
    return 0.3

bpy.app.timers.register(kick, first_interval=1.0)
'''


def test_batch_from_the_panel_in_the_real_ui(cli, fake):
    fake.batch_pending_s, fake.batch_running_s = 0.5, 3.0
    result = cli.work / "gui-batch.json"
    script = cli.work / "gui_batch.py"
    script.write_text(f"OUT = {str(result)!r}\n" + SCRIPT)
    run = cli.raw("--online-mode", "--python", str(script), gui=True)
    assert result.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    out = json.loads(result.read_text())
    assert "timeout" not in out and out["submit"] == "{'FINISHED'}"
    assert out["images"] == 20 and "finished, 20 of 20 image(s) saved" in out["status"]
    assert "RUNNING" in out["states"] and out["states"][-1] == "SUCCEEDED", " ".join(out["states"])
    assert len([r for r in fake.requests if r.action == "batchGenerateContent"]) == 1
    # The main thread stays free (a loose check: this machine is shared, a tick can be
    # descheduled; the budget itself, <= 50 ms in any tick, is a benchmark figure).
    ticks = sorted(out["ticks"])
    assert out["submit_ms"] < 100 and ticks[int(len(ticks) * 0.9)] < 50, (out["submit_ms"], ticks[-5:])
