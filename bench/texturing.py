#!/usr/bin/env python3
"""Texturing benchmark (issue 11): run it with a PyPI-bpy Python on the built zip,
`~/.cache/nanobanana-ci/bpy-4.5.15/bin/python bench/texturing.py [--smoke]`.

A UV sphere of about 10k and 20k triangles, a perspective camera, the fake Gemini server.
For Texture from View (1 view) and Texture All Around (4 views), at 1K and 2K, prints:
  press      main-thread time of the button: clay render(s) + mesh arrays (+ UVs)
  bake       worker time of projection + blend + bake + PNG encode (all views), wall
             and CPU of the process meanwhile (every bake thread; less sensitive to what
             else the machine runs)
  worst gap  longest main-thread stall while the worker bakes (a 10 ms sleep loop stands
             in for Blender's event loop; what the GIL leaves the UI)
  place      main-thread time to land the result (pack, decode, material)
  press (UI) Texture All Around pressed in a window: before, the whole press was one
             main-thread stall (every clay render back to back, texturing.build()); now
             the press takes the views and arrays, then each timer tick renders one view
             (texture_capture_steps.py). Printed: the one stall of build() against the
             longest slice of the sliced capture (press, then each tick), and the slices.
Figures only; nothing here fails on timing.

Baseline (`--cycles`, on by default for 4 views): Blender's own Cycles bake of the same
projection set up by hand, on the same mesh, from the same 4 views and the same 4 answer
images. One emission material does per view what our projection does: the texel's world
position through the view's matrices (Vector Math dot products, divided by w) into an
Image Texture with Clip extension (alpha 0 outside the frame), weighted by
max(0, cos(normal, view)) ** 4 times that alpha, the views averaged by weight; then
`bpy.ops.object.bake(type='EMIT')`, Cycles CPU, 1 sample, into an image of the bake size on
the mesh's UVs with a 16 px margin. What it does NOT do that ours does: no occlusion (a
surface hidden behind another part still gets the view's colour), no grazing fade over the
previous texture (a texel no view sees is black, not the old texture), and a 16 px margin
where ours fills every texel outside the islands. The ratio printed is Cycles' wall time
over ours (above 1: we are faster), and the same for CPU time (Cycles uses both cores);
`diff` is the median / 95th percentile of the largest 8-bit channel difference between the
two bakes on the texels ours painted in full (a check that both project the same way).
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
ap.add_argument("--no-cycles", action="store_true", help="skip the Cycles baseline")
ap.add_argument("--sizes", default="", help="bake sizes, e.g. 2K (default 1K,2K)")
ap.add_argument("--press-only", action="store_true", help="only the UI press phase (4 views)")
ARGS = ap.parse_args()
isolate(tempfile.mkdtemp(prefix="nb-bench-tex-"))

import bpy  # noqa: E402
from fake_gemini import FakeGemini  # noqa: E402

now = time.perf_counter


def mod(name: str):
    """An add-on module, imported if not loaded yet (feature modules load on first use)."""
    import importlib
    return importlib.import_module(f"{MODULE}.blender.{name}")


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
    op = tex.TextureFromView if views == 1 else tex.TextureObject
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
            "place_own": tex.LAST.timings["place_s"], "target": target}


def press_phase(views: int = 4, repeats: int = 3) -> dict:
    """Longest main-thread stall from the press to the job submitted, both paths; the
    sliced capture is driven tick by tick as the modal timer does, then cancelled (its
    job would be the same as build()'s)."""
    tex, steps_mod = mod("texturing"), mod("texture_capture_steps")
    bpy.context.scene.nanobanana.texture_views = views
    before, after, slices = [], [], []
    for _ in range(repeats):
        t0 = now()
        tex.TextureObject.build(bpy.context)
        before.append(now() - t0)
        t0 = now()
        steps = steps_mod.CaptureSteps(bpy.context, views)
        one = [now() - t0]
        while steps.done < steps.total - 1:     # the last tick submits: time the render only
            t0 = now()
            steps.tick(bpy.context)
            one.append(now() - t0)
        t0 = now()
        spec = steps.cameras[-1]
        cam = tex._temp_camera(bpy.context, "NB around")
        cam.data.type, cam.data.ortho_scale = "ORTHO", spec.ortho_scale
        cam.data.clip_start, cam.data.clip_end = spec.clip
        cam.matrix_world = spec.matrix_world
        tex.render_clay(bpy.context, cam, steps.width, steps.height)
        tex._remove_camera(cam)
        one.append(now() - t0)
        steps.cancel()
        after.append(max(one))
        slices.append(one)
    best = min(range(repeats), key=lambda k: after[k])
    return {"before": min(before), "after": min(after), "slices": slices[best]}


def _node(tree, kind: str, **props):
    n = tree.nodes.new(kind)
    for k, v in props.items():
        setattr(n, k, v)
    return n


def _math(tree, op: str, a, b=None):
    """A Math node of op(a, b); a and b are sockets or numbers."""
    n = _node(tree, "ShaderNodeMath", operation=op)
    for i, x in enumerate((a, b)):
        if x is None:
            continue
        if isinstance(x, int | float):
            n.inputs[i].default_value = float(x)
        else:
            tree.links.new(x, n.inputs[i])
    return n.outputs[0]


def _dot(tree, socket, row) -> object:
    """dot(socket, row[:3]) + row[3]"""
    n = _node(tree, "ShaderNodeVectorMath", operation="DOT_PRODUCT")
    tree.links.new(socket, n.inputs[0])
    n.inputs[1].default_value = tuple(float(v) for v in row[:3])
    return _math(tree, "ADD", n.outputs["Value"], float(row[3]))


def cycles_projection_material(views, images) -> bpy.types.Material:
    """The hand-made projection: per view, NDC -> image (Clip), weight cos**4 * alpha;
    colour = sum(w * c) / sum(w), as emission."""
    import numpy as np
    mat = bpy.data.materials.new("Cycles projection")
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    tree = mat.node_tree
    tree.nodes.clear()
    geo = _node(tree, "ShaderNodeNewGeometry")
    pos, nrm = geo.outputs["Position"], geo.outputs["Normal"]
    csum = wsum = None
    for view, img in zip(views, images, strict=True):
        v, p = (np.array(m, float) for m in (view.view_matrix, view.projection_matrix))
        m = p @ v
        w = _dot(tree, pos, m[3])
        ndc = [_math(tree, "DIVIDE", _dot(tree, pos, m[r]), w) for r in (0, 1)]
        uv = _node(tree, "ShaderNodeCombineXYZ")
        for r in (0, 1):
            tree.links.new(_math(tree, "ADD", _math(tree, "MULTIPLY", ndc[r], 0.5), 0.5), uv.inputs[r])
        tex = _node(tree, "ShaderNodeTexImage", image=img, extension="CLIP", interpolation="Linear")
        tree.links.new(uv.outputs[0], tex.inputs["Vector"])
        if view.orthographic:
            towards = v[2, :3]
            cos_n = _node(tree, "ShaderNodeVectorMath", operation="DOT_PRODUCT")
            tree.links.new(nrm, cos_n.inputs[0])
            cos_n.inputs[1].default_value = tuple(float(c) for c in towards)
        else:
            eye = -v[:3, :3].T @ v[:3, 3]
            sub = _node(tree, "ShaderNodeVectorMath", operation="SUBTRACT")
            sub.inputs[0].default_value = tuple(float(c) for c in eye)
            tree.links.new(pos, sub.inputs[1])
            unit = _node(tree, "ShaderNodeVectorMath", operation="NORMALIZE")
            tree.links.new(sub.outputs[0], unit.inputs[0])
            cos_n = _node(tree, "ShaderNodeVectorMath", operation="DOT_PRODUCT")
            tree.links.new(nrm, cos_n.inputs[0])
            tree.links.new(unit.outputs[0], cos_n.inputs[1])
        weight = _math(tree, "MULTIPLY", _math(tree, "POWER", _math(tree, "MAXIMUM", cos_n.outputs["Value"], 0.0), 4.0),
                       tex.outputs["Alpha"])
        scaled = _node(tree, "ShaderNodeVectorMath", operation="SCALE")
        tree.links.new(tex.outputs["Color"], scaled.inputs[0])
        tree.links.new(weight, scaled.inputs["Scale"])
        if csum is None:
            csum, wsum = scaled.outputs[0], weight
        else:
            add = _node(tree, "ShaderNodeVectorMath", operation="ADD")
            tree.links.new(csum, add.inputs[0])
            tree.links.new(scaled.outputs[0], add.inputs[1])
            csum, wsum = add.outputs[0], _math(tree, "ADD", wsum, weight)
    div = _node(tree, "ShaderNodeVectorMath", operation="SCALE")
    tree.links.new(csum, div.inputs[0])
    tree.links.new(_math(tree, "DIVIDE", 1.0, _math(tree, "MAXIMUM", wsum, 1e-6)), div.inputs["Scale"])
    emit = _node(tree, "ShaderNodeEmission")
    tree.links.new(div.outputs[0], emit.inputs["Color"])
    out = _node(tree, "ShaderNodeOutputMaterial")
    tree.links.new(emit.outputs[0], out.inputs["Surface"])
    return mat


def cycles_bake(obj: bpy.types.Object, target, size: int) -> dict:
    """Blender's own bake of the same projection: returns wall and CPU seconds of the
    bake operator (material set-up excluded: a few ms)."""
    images = [bpy.data.images[f"NB view {v.name}"] for v in target.views]
    # Blend the sRGB numbers as ours does (not linear light): images and bake as Non-Color.
    for img in images:
        img.colorspace_settings.name = "Non-Color"
    mat = cycles_projection_material(target.views, images)
    out_img = bpy.data.images.new("Cycles bake", size, size)
    out_img.colorspace_settings.name = "Non-Color"
    node = mat.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = out_img
    mat.node_tree.nodes.active = node
    node.select = True
    obj.data.materials.clear()
    obj.data.materials.append(mat)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.samples = 1
    sc.render.bake.margin = 16
    for o in bpy.context.view_layer.objects:
        o.select_set(o == obj)
    bpy.context.view_layer.objects.active = obj
    t0, c0 = now(), time.process_time()
    assert bpy.ops.object.bake(type="EMIT", margin=16, use_clear=True) == {"FINISHED"}
    wall, cpu = now() - t0, time.process_time() - c0
    # Same projection? Compare with ours where ours got the answer's colour in full (no
    # fade to the old texture, which the baseline does not do): 8-bit differences.
    import numpy as np

    def px(img):
        buf = np.empty(size * size * 4, np.float32)
        img.pixels.foreach_get(buf)
        return buf.reshape(-1, 4)[:, :3] * 255.0
    ours = px(bpy.data.images[f"NB Texture {obj.name}"])
    full = px(bpy.data.images[f"NB Texture {obj.name} uncovered"])[:, 0] < 0.5
    diff = np.abs(px(out_img) - ours).max(axis=1)[full]
    return {"wall": wall, "cpu": cpu, "median_diff": float(np.median(diff)),
            "p95_diff": float(np.percentile(diff, 95))}


def main() -> int:
    zips = sorted((ROOT / "dist").glob("nanobanana-*-linux_x64.zip"))
    install(ARGS.zip or str(zips[-1]))
    fake = FakeGemini(api_key="bench")
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.api_key, prefs.base_url = "bench", fake.url
    try:
        meshes = [(32, 16)] if ARGS.smoke else [(128, 80)]          # 20,224 triangles
        for seg, rings in meshes:
            scene(seg, rings)
            p = press_phase(4, 1 if ARGS.smoke else 3)
            print(f"press (UI), 4 views: longest main-thread stall before {p['before'] * 1000:.0f}ms "
                  f"(texturing.build), after {p['after'] * 1000:.0f}ms (sliced; slices "
                  + " ".join(f"{t * 1000:.0f}" for t in p["slices"]) + " ms)", flush=True)
        if ARGS.press_only:
            return 0
        sizes = ["1K"] if ARGS.smoke else (ARGS.sizes.split(",") if ARGS.sizes else ["1K", "2K"])
        print(f"{'tris':>6} {'views':>5} {'bake':>4} | {'press':>7} {'render':>7} {'arrays':>7} | "
              f"{'bake':>7} {'cpu':>6} {'worst gap':>9} | {'place':>7} {'ours':>6} | "
              f"{'cycles':>7} {'cpu':>6} {'ratio':>6} {'cpu ratio':>9} {'diff':>8}")
        for seg, rings in meshes:
            for views in (1, 4):
                for size in sizes:
                    obj = scene(seg, rings)
                    tris = sum(len(p.vertices) - 2 for p in obj.data.polygons)
                    r = run(views, size)
                    line = (f"{tris:>6} {views:>5} {size:>4} | {r['press'] * 1000:>5.0f}ms {r['render_s'] * 1000:>5.0f}ms "
                            f"{r['arrays_s'] * 1000:>5.0f}ms | {r['bake']:>6.2f}s {r['cpu']:>5.2f}s {r['gap'] * 1000:>7.0f}ms | "
                            f"{r['place'] * 1000:>5.0f}ms {r['place_own'] * 1000:>4.0f}ms |")
                    if views == 4 and not ARGS.no_cycles:
                        c = cycles_bake(obj, r["target"], {"1K": 1024, "2K": 2048, "4K": 4096}[size])
                        line += (f" {c['wall']:>6.2f}s {c['cpu']:>5.2f}s {c['wall'] / r['bake']:>5.2f}x "
                                 f"{c['cpu'] / r['cpu']:>8.2f}x {c['median_diff']:>3.0f}/{c['p95_diff']:<3.0f}")
                    print(line, flush=True)
    finally:
        fake.close()
        uninstall()
    return 0


if __name__ == "__main__":
    sys.exit(main())
