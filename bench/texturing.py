#!/usr/bin/env python3
"""Texturing benchmark (issue 11): run it with a PyPI-bpy Python on the built zip,
`~/.cache/nanobanana-ci/bpy-4.5.15/bin/python bench/texturing.py [--smoke]`.

A UV sphere of about 10k and 20k triangles, a perspective camera, the fake Gemini server.
For Texture from View (1 view) and Texture All Around (4 views), at 1K and 2K, prints:
  press      main-thread time of the button: clay render(s) + mesh arrays (+ UVs)
  bake       worker time of projection + blend + bake + PNG encode (all views), wall
             and CPU (the CPU figure does not depend on what else the machine runs)
  worst gap  longest main-thread stall while the worker bakes (a 10 ms sleep loop stands
             in for Blender's event loop; what the GIL leaves the UI)
  place      main-thread time to land the result (pack, decode, material)
Figures only; nothing here fails on timing.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from tools.blender_session import MODULE, install, isolate, uninstall  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--zip", default="")
ap.add_argument("--smoke", action="store_true")
ARGS = ap.parse_args()
isolate(tempfile.mkdtemp(prefix="nb-bench-tex-"))

import bpy  # noqa: E402
from fake_gemini import FakeGemini  # noqa: E402

now = time.perf_counter


def mod(name: str):
    return sys.modules[f"{MODULE}.blender.{name}"]


def scene(segments: int, rings: int) -> bpy.types.Object:
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    bpy.ops.mesh.primitive_uv_sphere_add(segments=segments, ring_count=rings)
    obj = bpy.context.active_object
    obj.select_set(True)
    cam = bpy.data.objects.new("Cam", bpy.data.cameras.new("Cam"))
    sc.collection.objects.link(cam)
    cam.location, cam.rotation_euler = (6, -6, 4), (1.1, 0, 0.785)
    sc.camera = cam
    sc.render.resolution_x, sc.render.resolution_y = 1920, 1080
    sc.nanobanana.prompt = "painted ceramic"
    return obj


def run(views: int, size: str) -> dict:
    tex, pump, runtime = mod("texturing"), mod("pump"), mod("runtime")
    s = bpy.context.scene.nanobanana
    s.bake_size, s.texture_views = size, max(2, views)
    op = tex.NANOBANANA_OT_texture_from_view if views == 1 else tex.NANOBANANA_OT_texture_object
    t0 = now()
    request, target = op.build(bpy.context)
    press = now() - t0
    job = pump.submit(bpy.context, request, target)
    worst, last = 0.0, now()
    while not job.done_event.is_set():          # the "event loop" while the worker runs
        time.sleep(0.01)
        t = now()
        worst, last = max(worst, t - last - 0.01), t
    t1 = now()
    for j in runtime.STATE.jobs.drain():
        pump.apply_job(j)
    place = now() - t1
    assert "bake_seconds" in target.out and tex.LAST.coverage, runtime.STATE.status.text
    return {"press": press, **target.out["capture_timings"], "bake": target.out["bake_seconds"],
            "cpu": target.out["bake_cpu_seconds"], "gap": worst, "place": place,
            "place_own": tex.LAST.timings["place_s"]}


def main() -> int:
    zips = sorted((ROOT / "dist").glob("nanobanana-*-linux_x64.zip"))
    install(ARGS.zip or str(zips[-1]))
    fake = FakeGemini(api_key="bench")
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.api_key, prefs.base_url = "bench", fake.url
    try:
        meshes = [(32, 16)] if ARGS.smoke else [(100, 51), (128, 80)]
        sizes = ["1K"] if ARGS.smoke else ["1K", "2K"]
        print(f"{'tris':>6} {'views':>5} {'bake':>4} | {'press':>7} {'render':>7} {'arrays':>7} | "
              f"{'bake':>7} {'cpu':>6} {'worst gap':>9} | {'place':>7} {'ours':>6}")
        for seg, rings in meshes:
            for views in (1, 4):
                for size in sizes:
                    obj = scene(seg, rings)
                    tris = sum(len(p.vertices) - 2 for p in obj.data.polygons)
                    r = run(views, size)
                    print(f"{tris:>6} {views:>5} {size:>4} | {r['press'] * 1000:>5.0f}ms {r['render_s'] * 1000:>5.0f}ms "
                          f"{r['arrays_s'] * 1000:>5.0f}ms | {r['bake']:>6.2f}s {r['cpu']:>5.2f}s {r['gap'] * 1000:>7.0f}ms | "
                          f"{r['place'] * 1000:>5.0f}ms {r['place_own'] * 1000:>4.0f}ms", flush=True)
    finally:
        fake.close()
        uninstall()
    return 0


if __name__ == "__main__":
    sys.exit(main())
