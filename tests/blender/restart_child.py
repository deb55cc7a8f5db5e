"""Child process for test_restart.py: one Blender session on a given profile.

  python restart_child.py generate PROFILE ZIP URL KEY PROMPT   -> generate, quit unsaved
  python restart_child.py reopen   PROFILE ZIP URL KEY PROMPT   -> gallery, apply in one click,
                                                                 continue refining it
Prints one JSON line with what it saw.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).parent)]
from tools.blender_session import MODULE, enabled, install, isolate  # noqa: E402

phase, profile, zip_path = sys.argv[1:4]
isolate(profile)
import bpy  # noqa: E402

if not enabled():
    install(zip_path)          # PyPI bpy starts with factory preferences every time
out: dict = {"phase": phase}
url, key, prompt = sys.argv[4:7]
prefs = bpy.context.preferences.addons[MODULE].preferences
prefs.api_key, prefs.base_url = key, url
s = bpy.context.scene.nanobanana
if phase == "generate":
    s.prompt, s.result_target, s.model = prompt, "IMAGE", "gemini-3-pro-image"
    out["result"] = sorted(bpy.ops.nanobanana.generate())
else:
    from ui_double import Layout
    gallery = importlib.import_module(f"{MODULE}.blender.gallery")    # loads on first draw
    layout = Layout()
    gallery.draw(layout, bpy.context)
    out["labels"] = layout.labels
    entry_id = next(v for op, name, v in layout.op_props if op == "nanobanana.history_use" and name == "entry_id")
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.active_object
    cube.select_set(True)
    out["apply"] = sorted(bpy.ops.nanobanana.history_use(entry_id=entry_id, mode="MATERIAL"))
    tex = next(n for n in cube.active_material.node_tree.nodes if n.type == "TEX_IMAGE")
    out["image_size"] = list(tex.image.size)
    out["entry"] = tex.image["nanobanana_entry"]
    out["continue"] = sorted(bpy.ops.nanobanana.history_continue(entry_id=entry_id))
    s.prompt = "now at dusk"
    out["refine"] = sorted(bpy.ops.nanobanana.refine())
print("RESULT " + json.dumps(out), flush=True)
