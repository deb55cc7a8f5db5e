"""`blender -c nanobanana texture FILE.blend --object NAME ...`: texture one object headless.

Opens the file, selects the object and runs the panel's own texturing build
(texturing.build: views all around, or the active camera with --views 1), submits it with
pump.submit and waits like a background operator; the bake is wired into the object's
material by the same ProjectAndBake target. With --save the file is saved in place, with
--out to another path. Loaded by cli.py when the command runs.
"""
from __future__ import annotations

import os

import bpy

from ..core import errors
from . import cli, numpy_guard, properties


def run(args) -> dict:
    numpy_guard.require()            # texturing projects and bakes with NumPy
    path = os.path.abspath(args.blend)
    if not os.path.isfile(path):
        raise errors.blend_not_found(path)
    cli.check_ready()
    bpy.ops.wm.open_mainfile(filepath=path)
    obj = bpy.data.objects.get(args.object)
    if obj is None:
        raise errors.object_not_found(args.object, [o.name for o in bpy.data.objects])
    if obj.type != "MESH":
        raise errors.not_a_mesh([obj.name])
    s = bpy.context.scene.nanobanana
    prompt = (args.prompt or "").strip() or properties.prompt_of(s)
    if not prompt:
        raise errors.no_prompt()
    cli.apply_settings(args, prompt)
    if args.bake_size:
        s.bake_size = args.bake_size
    views = args.views or s.texture_views
    if views >= 2:
        s.texture_views = views
    _select_only(obj)
    from . import texturing
    request, target = texturing.build(bpy.context, around=0 if views == 1 else views)
    label = "[texture from the camera]" if views == 1 else f"[texture, {views} views all around]"
    result = cli.run_request(request, target, label)
    ok = result["exit_code"] == cli.EXIT_OK
    destination = args.out or (path if args.save else None)
    saved = cli.save_blend(destination) if ok and destination else None
    mat = obj.active_material
    node = mat.node_tree.nodes.get(texturing.NODE) if ok and mat and mat.node_tree else None
    return {"ok": ok, "exit_code": result["exit_code"], "object": obj.name,
            "views": list(texturing.LAST.views) if ok else [],
            "coverage": texturing.LAST.coverage.get(obj.name) if ok else None,
            "material": mat.name if ok and mat else None,
            "texture": node.image.name if node is not None and node.image else None,
            "bake_size": s.bake_size, "results": [result], "cost_usd": result["cost_usd"],
            "blend": saved}


def _select_only(obj: bpy.types.Object) -> None:
    """The object alone selected and active, in Object Mode (as the panel expects)."""
    view_layer = bpy.context.view_layer
    if bpy.context.mode != "OBJECT" and view_layer.objects.active is not None:
        bpy.ops.object.mode_set(mode="OBJECT")
    for o in view_layer.objects:
        o.select_set(False)
    try:
        obj.select_set(True)
    except RuntimeError:            # not in this view layer
        raise errors.object_not_in_view_layer(obj.name, view_layer.name) from None
    view_layer.objects.active = obj
