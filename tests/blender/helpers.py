"""Small helpers shared by the real-Blender workflow tests."""
from __future__ import annotations

import base64
import importlib
import json
import re
import time
from pathlib import Path

import bpy
import numpy as np
import pytest
from conftest import MODULE
from fake_gemini import expected_pixel


def addon_module(name: str):
    """A module of the add-on's bpy layer, loaded now if enabling did not (bench P3)."""
    return importlib.import_module(f"{MODULE}.blender.{name}")


def runtime():
    return addon_module("runtime")


def texture_on(obj: bpy.types.Object, image: bpy.types.Image, material: str):
    """A new material on `obj` whose active node is an Image Texture showing `image`, with
    `obj` active: what Edit Texture and PBR Maps work on. Returns (material, node)."""
    mat = bpy.data.materials.new(material)
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    obj.data.materials.append(mat)
    node = mat.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = image
    mat.node_tree.nodes.active = node
    bpy.context.view_layer.objects.active = obj
    return mat, node


def run_cli(capsys, *argv: str) -> tuple[int, dict, str]:
    """What `blender -c nanobanana ARGV` runs: the registered function, with argv.
    Returns (exit code, the JSON summary from stdout, stderr)."""
    code = addon_module("registration")._run_cli(list(argv))
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.startswith('{"command"')]
    assert len(lines) == 1, out
    return code, json.loads(lines[0]), err


def status():
    return runtime().STATE.status


def nb_images() -> list[bpy.types.Image]:
    return [i for i in bpy.data.images if "nanobanana_entry" in i.keys()]


def assert_pixels_match(img: bpy.types.Image, seed: int, points=((0, 0), (5, 7), (40, 20))) -> None:
    """Blender's pixels (bottom-up, 0..1) equal the fake's PNG pattern at a few points."""
    w, h = img.size
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    px = buf.reshape(h, w, 4)
    for x, y in points:
        x, y = min(x, w - 1), min(y, h - 1)
        got = tuple(int(round(v * 255)) for v in px[h - 1 - y, x, :3])
        assert got == expected_pixel(seed, x, y, w, h), (x, y, got)


def user_parts(recorded) -> list[dict]:
    """Parts of the last user turn of a recorded generateContent request."""
    contents = recorded.body["contents"]
    return [c for c in contents if c.get("role", "user") == "user"][-1]["parts"]


def history_sidecars() -> list[dict]:
    root = Path(runtime().history_root())
    out = []
    for p in sorted(root.glob("*/*.json")):
        try:
            out.append(json.loads(p.read_text()))
        except ValueError:
            pass            # a corrupt sidecar planted by a test of the gallery
    return out


def b64(text: str) -> bytes:
    """Decode base64 in either alphabet (google-genai sends the URL-safe one)."""
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def expect_error(op, words: str, **kwargs) -> None:
    """A failing operator: Blender turns its ERROR report into RuntimeError for scripts."""
    with pytest.raises(RuntimeError, match=re.escape(words)):
        op(**kwargs)


def wait_until(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False
