"""Batch and command-line benchmarks (issue 13); runs under a PyPI-bpy Python, started by
`bench/run.py --case batch`, with the built add-on and the fake Gemini in a process of its
own (bench/fake_process.py: its threads must not hold the GIL the main thread is timed on).

B1  Send as Batch from the panel for 200 prompts (one per line of a text block), the UI
    path: the operator hands the Batch API call to a worker and returns; then the batches
    timer (`blender/batches.py: _tick`) is driven the way Blender's timer loop drives it,
    sleeping the interval it returns, until the batch is submitted, polled to SUCCEEDED,
    fetched into history and every image placed into the file. Reports the operator's
    main-thread time, the longest tick (also with a decode of the newest image, what a
    redraw showing it would cost) and the results landed. PyPI bpy is a background
    build, so the batches module sees `bpy.app.background` as False (as in the UI);
    POLL_S is shortened from 60 s to 0.5 s (only the waiting shrinks).
B2  The CLI vs the Python API for the same N prompts at 1K with server latency: the
    registered `-c nanobanana` function with argv (`generate --prompts FILE --out DIR`)
    vs `bpy.ops.nanobanana.generate()` per prompt with each image written to DIR; one
    process, alternating order, medians.
B3  (with --real-blender, as root) the same in the real Blender program (Debian's 4.3 in a
    chroot, no NumPy): `blender -b -c nanobanana generate ...` vs `blender -b --python` of
    the API script; whole-process wall times, start-up included in both.
Prints figures; never fails on timing.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
from tools.blender_session import MODULE, install, isolate, uninstall  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--zip", required=True)
ap.add_argument("--profile", required=True)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--requests", type=int, default=200, help="prompts in the B1 batch")
ap.add_argument("--prompts", type=int, default=8, help="prompts in B2/B3")
ap.add_argument("--latency", type=float, default=0.5, help="server latency in B2/B3 (s)")
ap.add_argument("--real-blender", action="store_true", help="also B3 (needs root)")
ap.add_argument("--out", required=True)
ap.add_argument("--blender", default="")
ap.add_argument("--smoke", action="store_true")
ap.add_argument("--cases", default="B1,B2,B3", help="which rows to run, e.g. B1")
ARGS = ap.parse_args()
CASES = set(ARGS.cases.upper().split(","))
isolate(ARGS.profile)

import bpy  # noqa: E402, I001
from fake_process import FakeProcess  # noqa: E402

KEY = "bench-key"
FLASH = "gemini-nano-banana-2.1"
now = time.perf_counter
cpu = time.thread_time            # this (main) thread's CPU: what load from other processes leaves out
med = statistics.median
ROWS: list[dict] = []
N_BATCH = 20 if ARGS.smoke else ARGS.requests
N_PROMPTS = 2 if ARGS.smoke else ARGS.prompts
LATENCY = 0.1 if ARGS.smoke else ARGS.latency
REPEATS = 1 if ARGS.smoke else max(1, ARGS.repeats)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def mod(name: str):
    return importlib.import_module(f"{MODULE}.blender.{name}")     # loaded on first use


def row(pid: str, what: str, figure: str, target: str, met: bool | None, data: dict) -> None:
    ROWS.append({"id": pid, "what": what, "figure": figure, "target": target, "met": bool(met), **data})
    print(f"[bench] {pid}: {figure}", flush=True)


def placed() -> list[bpy.types.Image]:
    return [i for i in bpy.data.images if "nanobanana_entry" in i.keys()]


def drop_results() -> None:
    for img in placed():
        bpy.data.images.remove(img)


def settings(**kw):
    s = bpy.context.scene.nanobanana
    for k, v in kw.items():
        setattr(s, k, v)
    return s


install(ARGS.zip)
fake = FakeProcess(KEY)
prefs = bpy.context.preferences.addons[MODULE].preferences
prefs.api_key, prefs.base_url, prefs.timeout_s = KEY, fake.url, 120.0
bpy.context.preferences.system.use_online_access = True
bpy.ops.wm.read_homefile(use_empty=True)
settings(model=FLASH, image_size="1K", aspect_ratio="1:1", variations=1, result_target="IMAGE",
         prompt="bench")


# ------------------------------------------------------------------ B1: 200-request batch
class _UiApp:
    """bpy.app as the batches module sees it in the UI (not a background run)."""
    background = False

    def __getattr__(self, name):
        return getattr(bpy.app, name)


class _UiBpy:
    app = _UiApp()

    def __getattr__(self, name):
        return getattr(bpy, name)


def bench_b1() -> None:
    batches = mod("batches")
    batches.bpy = _UiBpy()                  # operator + timer take the UI path (worker, ticks)
    batches.POLL_S = 0.5
    fake.set(batch_pending_s=0.2 if ARGS.smoke else 0.5, batch_running_s=1.0 if ARGS.smoke else 4.0)
    # The session's first Send as Batch (one request) compiles what it imports (PyPI bpy
    # writes no bytecode): timed on its own, then brought in before the measured one.
    settings(prompt_text=None, prompt="warm-up crate")
    warm = len(placed())
    t0, c0 = now(), cpu()
    assert bpy.ops.nanobanana.batch_submit() == {"FINISHED"}
    t_first, c_first = now() - t0, cpu() - c0
    deadline = now() + 120
    while len(placed()) == warm and now() < deadline:     # sent, polled, fetched, placed
        time.sleep(batches._tick())
    creates0, polls0 = fake.count("batchGenerateContent"), fake.count("batches.get")
    text = bpy.data.texts.new("props")
    text.write("\n".join(f"prop {i:03d}: a weathered wooden crate, studio light" for i in range(N_BATCH)) + "\n")
    settings(prompt_text=text)
    images_before = len(placed())
    seen = {i.name for i in placed()}

    t0, c0 = now(), cpu()
    assert bpy.ops.nanobanana.batch_submit(per_line=True) == {"FINISHED"}
    t_operator, c_operator = now() - t0, cpu() - c0
    ticks, cpus, decodes, states, phases = [], [], [], [], []
    t_start, deadline = now(), now() + (120 if ARGS.smoke else 600)
    t_sent = t_fetched = t_landed = None
    while now() < deadline:
        queued, busy = len(batches.STATE.to_place), batches.STATE.busy
        t0, c0 = now(), cpu()
        nxt = batches._tick()
        ticks.append(now() - t0)
        cpus.append(cpu() - c0)
        new = [i for i in placed() if i.name not in seen]
        phases.append({"ms": ms(ticks[-1]), "cpu_ms": ms(cpus[-1]), "placed": len(new), "queued_before": queued,
                       "worker_busy": busy or batches.STATE.busy})
        if new:                             # the redraw after the tick, if an Image Editor shows
            t0 = now()                      # a new image: Blender decodes it then
            _ = new[-1].size[0]
            decodes.append(now() - t0)
            seen.update(i.name for i in new)
        recs = [r for r in batches.records() if r.total == N_BATCH]
        if recs and t_sent is None:
            t_sent = now() - t_start
        if recs and recs[0].fetched and t_fetched is None:
            t_fetched = now() - t_start
        states.append(recs[0].state if recs else "")
        if recs and recs[0].fetched and not batches.STATE.to_place and not batches.STATE.busy:
            t_landed = now() - t_start
            break
        time.sleep(nxt)
    rec = next(r for r in batches.records() if r.total == N_BATCH)
    landed = len(placed()) - images_before
    status = mod("runtime").STATE.status.text
    creates = fake.count("batchGenerateContent") - creates0
    polls = fake.count("batches.get") - polls0
    worst = max(ticks)
    decode = med(decodes[1:] or decodes or [0.0])
    row("B1", f"Send as Batch from the panel, {N_BATCH} prompts (UI path: worker + timer ticks)",
        f"operator {ms(t_operator)} ms on the main thread ({ms(c_operator)} ms of its CPU; the "
        f"session's first, 1 request: {ms(t_first)} ms / {ms(c_first)} ms CPU); longest "
        f"timer tick {ms(worst)} ms (longest main-thread CPU in a tick {ms(max(cpus))} ms; median tick "
        f"{ms(med(ticks))} ms, {len(ticks)} ticks); {creates} submission, {polls} polls, "
        f"{rec.images_saved}/{rec.total} saved at ${rec.cost_usd:.2f}, {landed} placed into the file "
        f"{t_landed or float('nan'):.1f} s after the click; a redraw showing a new 1K image decodes it "
        f"in {ms(decode)} ms (a draw step of its own)",
        "<= 50 ms on the main thread in any tick",
        max(t_operator, worst) <= 0.050 and landed == N_BATCH,
        {"requests": N_BATCH, "operator_ms": ms(t_operator), "longest_tick_ms": ms(worst),
         "operator_cpu_ms": ms(c_operator), "longest_tick_cpu_ms": ms(max(cpus)),
         "first_operator_ms": ms(t_first), "first_operator_cpu_ms": ms(c_first),
         "load_average": os.getloadavg(),
         "median_tick_ms": ms(med(ticks)), "ticks": len(ticks),
         "main_thread_total_ms": ms(t_operator + sum(ticks)),
         "redraw_decode_median_ms": ms(decode), "redraw_decode_max_ms": ms(max(decodes or [0.0])),
         "sent_s": round(t_sent or -1, 2), "fetched_s": round(t_fetched or -1, 2),
         "landed_s": round(t_landed or -1, 2), "submissions": creates, "polls": polls,
         "state": rec.state, "images_saved": rec.images_saved, "placed": landed,
         "cost_usd": rec.cost_usd, "estimate_usd": rec.estimate_usd, "status": status,
         "states_seen": sorted(set(states)),
         "longest_ticks": sorted(phases, key=lambda p: -p["ms"])[:6],
         "note": "POLL_S 60 s -> 0.5 s; fake: PENDING 0.5 s, RUNNING 4 s, in its own process; "
                 "no undo push (bpy has no window), which the UI adds per placed batch result"})
    tick = mod("classes.batches").TICK      # the timer batches.ensure_timer registers
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)
    batches.bpy = bpy
    settings(prompt_text=None)
    drop_results()


# ------------------------------------------------------------------ B2: CLI vs Python API
PROMPTS = [f"bench prop {i}: a rusty oil barrel" for i in range(N_PROMPTS)]
work = Path(tempfile.mkdtemp(prefix="nb-cli-bench-"))
prompts_file = work / "prompts.txt"
prompts_file.write_text("\n".join(PROMPTS) + "\n")
registration = mod("registration")


def via_cli(out: Path) -> float:
    sink_out, sink_err = io.StringIO(), io.StringIO()
    t0 = now()
    with contextlib.redirect_stdout(sink_out), contextlib.redirect_stderr(sink_err):
        code = registration._run_cli(["generate", "--prompts", str(prompts_file), "--size", "1K",
                                      "--ratio", "1:1", "--out", str(out)])
    t = now() - t0
    if code != 0:
        lines = [ln for ln in sink_out.getvalue().splitlines() if ln.startswith('{"command"')]
        summary = json.loads(lines[-1]) if lines else {}
        bad = [(r.get("status"), r.get("message")) for r in summary.get("results", []) if r.get("exit_code")]
        raise AssertionError(f"CLI exit {code}: {bad or summary.get('error') or sink_err.getvalue()[-800:]}")
    return t


def via_api(out: Path) -> float:
    t0 = now()
    out.mkdir(parents=True, exist_ok=True)
    s = settings(prompt_text=None, image_size="1K", aspect_ratio="1:1", variations=1, result_target="IMAGE")
    for n, prompt in enumerate(PROMPTS, 1):
        s.prompt = prompt
        before = {i.name for i in placed()}
        assert bpy.ops.nanobanana.generate() == {"FINISHED"}
        img = next(i for i in placed() if i.name not in before)
        (out / f"{n:03d}_image.png").write_bytes(img.packed_file.data)
    return now() - t0


def count_files(out: Path) -> int:
    return sum(1 for p in out.iterdir() if p.suffix == ".png")


def bench_b2() -> None:
    fake.set(latency=LATENCY)
    cli_t, api_t, files = [], [], {"cli": 0, "api": 0}
    via_cli(work / "warm-cli")                 # imports (cli.py, argparse), connections
    via_api(work / "warm-api")
    drop_results()
    for k in range(REPEATS * 2):
        for name in (("cli", "api") if k % 2 == 0 else ("api", "cli")):
            out = work / f"{name}-{k}"
            (cli_t if name == "cli" else api_t).append((via_cli if name == "cli" else via_api)(out))
            files[name] = count_files(out)
            drop_results()
    ratio = med(cli_t) / med(api_t)
    row("B2", f"CLI vs Python API: {N_PROMPTS} prompts at 1K, {LATENCY:g} s server latency (same bpy process)",
        f"CLI {ms(med(cli_t))} ms vs API {ms(med(api_t))} ms: ratio {ratio:.3f} "
        f"({files['cli']} / {files['api']} files written)",
        "<= 1.1", ratio <= 1.1 and files["cli"] == files["api"] == N_PROMPTS,
        {"cli_ms": ms(med(cli_t)), "api_ms": ms(med(api_t)), "ratio": round(ratio, 3),
         "runs": len(cli_t), "prompts": N_PROMPTS, "latency_s": LATENCY, "files": files})


# ------------------------------------------------------------------ B3: the real Blender program
API_SCRIPT = r'''
import bpy, sys
from pathlib import Path
prompts, out = Path(sys.argv[-2]).read_text().split("\n"), Path(sys.argv[-1])
out.mkdir(parents=True, exist_ok=True)
s = bpy.context.scene.nanobanana
s.image_size, s.aspect_ratio, s.variations, s.result_target = "1K", "1:1", 1, "IMAGE"
for n, p in enumerate([p for p in prompts if p.strip()], 1):
    s.prompt = p
    before = set(bpy.data.images.keys())
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    img = next(i for i in bpy.data.images if i.name not in before)
    (out / f"{n:03d}_image.png").write_bytes(img.packed_file.data)
'''


def real_blender() -> None:
    fake.set(latency=LATENCY)
    import importlib.util
    spec = importlib.util.spec_from_file_location("cli_conftest", ROOT / "tests" / "cli" / "conftest.py")
    conf = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = conf
    spec.loader.exec_module(conf)          # the CLI tests' Blender runner, reused
    conf.TIMEOUT = 900                     # each run may first wait for the tool's chroot lock
    why = conf._why_not()
    if why:
        print(f"[bench] B3 skipped: {why}", flush=True)
        return
    profile = Path(tempfile.mkdtemp(prefix="nb-b3-", dir="/tmp"))
    for sub in ("config", "scripts", "extensions", "datafiles"):
        (profile / sub).mkdir()

    class _Fake:                            # what conf.Blender reads of a fake
        url = fake.url
    b = conf.Blender(profile, _Fake())
    zip_copy = profile / "nanobanana.zip"
    zip_copy.write_bytes(Path(ARGS.zip).read_bytes())
    run = b.raw("-b", "--factory-startup", "--python-expr",
                "import bpy\n"
                f"bpy.ops.extensions.package_install_files(filepath={str(zip_copy)!r}, repo='user_default', "
                "enable_on_install=True)\nbpy.ops.wm.save_userpref()\n"
                "print('NB-OK' if 'bl_ext.user_default.nanobanana' in bpy.context.preferences.addons else 'NB-NO')\n",
                key=KEY)
    if "NB-OK" not in run.stdout:
        print(f"[bench] B3 skipped: install failed: {run.stderr[-500:]}", flush=True)
        return
    script = b.work / "api_bench.py"
    script.write_text(API_SCRIPT)
    pf = b.work / "prompts.txt"
    pf.write_text("\n".join(PROMPTS) + "\n")

    mark = b.work / "started"
    stamp = f"import time; open({str(mark)!r}, 'w').write(repr(time.time()))"

    def timed(*args: str) -> tuple[float, float]:
        """(after start-up until the process ended, whole run): the tool waits for its
        chroot lock (other users of the real Blender), so only the first is comparable."""
        mark.unlink(missing_ok=True)
        t0 = time.time()
        r = b.raw(*args, key=KEY)
        t1 = time.time()
        assert r.code == 0, r.stdout[-800:] + r.stderr[-800:]
        return t1 - float(mark.read_text()), t1 - t0

    def cli_run(k: int) -> tuple[float, float]:
        return timed("--online-mode", "--python-expr", stamp, "-c", "nanobanana", "generate", "--prompts",
                     str(pf), "--size", "1K", "--ratio", "1:1", "--out", str(b.work / f"cli-{k}"))

    def api_run(k: int) -> tuple[float, float]:
        return timed("-b", "--online-mode", "--python-expr", stamp, "--python", str(script), "--", str(pf),
                     str(b.work / f"api-{k}"))
    cli_run(-1), api_run(-1)                 # first start-up (page cache)
    c3, a3, cw, aw = [], [], [], []
    for k in range(REPEATS * 2):
        for f, acc, whole in (((cli_run, c3, cw), (api_run, a3, aw)) if k % 2 == 0
                              else ((api_run, a3, aw), (cli_run, c3, cw))):
            after_start, all_of_it = f(k)
            acc.append(after_start)
            whole.append(all_of_it)
    n_cli = sum(1 for p in (b.work / "cli-0").iterdir() if p.suffix == ".png")
    n_api = sum(1 for p in (b.work / "api-0").iterdir() if p.suffix == ".png")
    r3 = med(c3) / med(a3)
    row("B3", f"CLI vs Python API in the real Blender program ({N_PROMPTS} prompts, from start-up done to exit)",
        f"`blender -b -c nanobanana generate` {ms(med(c3))} ms vs `blender -b --python` {ms(med(a3))} ms: "
        f"ratio {r3:.3f} (whole runs incl. start-up and the tool's lock: {ms(med(cw))} / {ms(med(aw))} ms; "
        f"{n_cli} / {n_api} files)",
        "<= 1.1", r3 <= 1.1 and n_cli == n_api == N_PROMPTS,
        {"cli_ms": ms(med(c3)), "api_ms": ms(med(a3)), "ratio": round(r3, 3), "cli_whole_ms": ms(med(cw)),
         "api_whole_ms": ms(med(aw)), "runs": len(c3), "blender": "Debian 4.3 (chroot), no NumPy"})
    import shutil
    shutil.rmtree(profile, ignore_errors=True)


if "B1" in CASES:
    bench_b1()
if "B2" in CASES:
    bench_b2()
if ARGS.real_blender and "B3" in CASES:
    try:
        real_blender()
    except subprocess.TimeoutExpired as exc:
        print(f"[bench] B3 skipped: the real Blender did not answer in {exc.timeout:.0f} s "
              "(its chroot lock is shared with other runs)", flush=True)
fake.close()
uninstall()

# ------------------------------------------------------------------ report
machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
report = {"blender": bpy.app.version_string, "machine": machine, "repeats": REPEATS, "smoke": ARGS.smoke,
          "date": time.strftime("%Y-%m-%d"), "rows": ROWS}
Path(ARGS.out).parent.mkdir(parents=True, exist_ok=True)
Path(ARGS.out).write_text(json.dumps(report, indent=1, default=float))
print(f"\nNano Banana batch/CLI benchmark — Blender {bpy.app.version_string}, {machine}, "
      f"median of {REPEATS}{' (smoke)' if ARGS.smoke else ''}\n")
print("| id | measure | figure | target | met |")
print("|---|---|---|---|---|")
for r_ in ROWS:
    print(f"| {r_['id']} | {r_['what']} | {r_['figure']} | {r_['target']} | {'yes' if r_['met'] else 'no'} |")
print(f"\nJSON: {ARGS.out}")
