"""Issue 13: `blender -c nanobanana texture FILE.blend --object NAME ...` inside Blender (the
registered command's function with argv): the object is painted through the panel's own
texturing code, the bake is saved into the file, the JSON summary says what happened,
and each failure class has its exit code."""
from __future__ import annotations

import sys

import bpy
from helpers import run_cli

TEXTURE_NODE = "NB Texture"



def saved_file(scene, tmp_path, name="props.blend") -> str:
    bpy.data.objects["Cube"].name = "Crate"
    scene.nanobanana.prompt = "prompt saved in the file"
    path = str(tmp_path / name)
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_homefile(use_empty=True)          # the command opens the file itself
    return path


def test_texture_all_around_and_save(fake, scene, tmp_path, capsys):
    path = saved_file(scene, tmp_path)
    code, s, err = run_cli(capsys, "texture", path, "--object", "Crate", "--prompt", "old oak crate",
                           "--views", "2", "--bake-size", "1K", "--save")
    assert code == 0 and s["ok"], s
    assert s["object"] == "Crate" and len(s["views"]) == 2 and s["coverage"] > 0.3
    assert s["blend"] == path and s["bake_size"] == "1K"
    reqs = fake.generate_requests
    assert len(reqs) == 2 and all("old oak crate" in r.body["contents"][-1]["parts"][0]["text"] for r in reqs)
    assert "texture, 2 views all around" in err
    # The saved file holds the baked texture on the object's material.
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path)
    crate = bpy.data.objects["Crate"]
    node = crate.active_material.node_tree.nodes[TEXTURE_NODE]
    assert node.image is not None and node.image.packed_file is not None and node.image.size[0] == 1024
    assert s["texture"] == node.image.name and s["material"] == crate.active_material.name


def test_texture_from_the_active_camera_with_the_files_prompt_into_another_file(fake, scene, tmp_path, capsys):
    path = saved_file(scene, tmp_path)
    out = str(tmp_path / "out.blend")
    code, s, _ = run_cli(capsys, "texture", path, "--object", "Crate", "--views", "1", "--bake-size",
                         "1K", "--out", out)
    assert code == 0 and s["views"] == ["camera"] and s["blend"] == out
    (req,) = fake.generate_requests
    assert req.body["contents"][-1]["parts"][0]["text"].startswith("prompt saved in the file")
    bpy.ops.wm.open_mainfile(filepath=path)                       # the original is untouched
    assert bpy.data.objects["Crate"].active_material is None


def test_exit_codes(fake, scene, tmp_path, capsys, monkeypatch):
    from fake_gemini import responses as R
    path = saved_file(scene, tmp_path)
    code, s, _ = run_cli(capsys, "texture", str(tmp_path / "nope.blend"), "--object", "Crate")
    assert code == 2 and "No .blend file" in s["error"]["message"]
    code, s, _ = run_cli(capsys, "texture", path, "--object", "Barrel")
    assert code == 2 and "no object named 'Barrel'" in s["error"]["message"] and "Crate" in s["error"]["message"]
    code, s, _ = run_cli(capsys, "texture", path, "--object", "Cam")
    assert code == 2 and "not a mesh" in s["error"]["message"]
    code, s, err = run_cli(capsys, "texture", path)
    assert code == 2 and "--object" in err
    fake.script(R.finish("IMAGE_SAFETY"))
    code, s, _ = run_cli(capsys, "texture", path, "--object", "Crate", "--views", "1", "--save")
    assert code == 4 and not s["ok"] and s["blend"] is None
    bpy.context.preferences.system.use_online_access = False
    try:
        code, s, _ = run_cli(capsys, "texture", path, "--object", "Crate")
    finally:
        bpy.context.preferences.system.use_online_access = True
    assert code == 3
    monkeypatch.setitem(sys.modules, "numpy", None)               # a Blender without NumPy
    code, s, _ = run_cli(capsys, "texture", path, "--object", "Crate")
    assert code == 1 and s["error"]["kind"] == "numpy_missing" and "NumPy" in s["error"]["message"]
