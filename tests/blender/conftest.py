"""Real-Blender test harness: isolated profile, the built zip installed through Blender's
own extension manager, the fake Gemini server, and clean teardown (uninstall).

Must run under a Python that has the PyPI `bpy` module (see tests/run.py). The profile
and temp dirs are set before `import bpy`, so nothing is written outside them.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_TMP = Path(os.environ.get("TMPDIR") or "/tmp")
HOME_CONFIG = Path.home() / ".config" / "blender"


def _outside_snapshot() -> set[str]:
    """Names in the places Blender would write to if it were not isolated."""
    names = {f"tmp/{n}" for n in os.listdir(REAL_TMP)}
    if HOME_CONFIG.exists():
        names |= {f"config/{p.relative_to(HOME_CONFIG)}" for p in HOME_CONFIG.rglob("*")}
    return names


OUTSIDE_BEFORE = _outside_snapshot()
sys.path.insert(0, str(ROOT))
from tools.blender_session import MODULE, install, isolate, uninstall  # noqa: E402
from tools.blender_session import built_zip as find_built_zip  # noqa: E402
from tools.blender_session import enabled as module_enabled  # noqa: E402

PROFILE = isolate(os.environ.get("NANOBANANA_TEST_PROFILE"))
sys.path.insert(0, str(ROOT / "tests"))
import bpy  # noqa: E402
from fake_gemini import FakeGemini  # noqa: E402

KEY = "test-key-5f2b9c"


def built_zip() -> str:
    path = find_built_zip(ROOT)
    if path is None:
        pytest.exit("no built linux-x64 zip in dist/: run `python3 build.py` first", returncode=2)
    return path


HEAVY = ("google.genai", "PIL.Image", "PIL", f"{MODULE}.blender.cli", f"{MODULE}.core.batch",
         # code behind thin declarations (blender/classes): loads on the first draw (bench P3)
         f"{MODULE}.blender.panels", f"{MODULE}.blender.panel_materials")
HEAVY += (f"{MODULE}.blender.batches", f"{MODULE}.blender.key_check")
_heavy_after_enable: set[str] = set()


@pytest.fixture(scope="session")
def addon():
    install(built_zip())
    _heavy_after_enable.update(m for m in HEAVY if m in sys.modules)
    yield sys.modules[MODULE]
    if module_enabled():
        uninstall()
    _join_worker_threads()


def _join_worker_threads(timeout: float = 10.0) -> None:
    """Let abandoned HTTP threads (cancelled jobs) end before the interpreter does:
    a daemon thread still running while embedded Blender shuts down can crash it."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and thread.name.startswith("nanobanana"):
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture(scope="session")
def heavy_modules_after_enable(addon):
    return set(_heavy_after_enable)


@pytest.fixture(scope="session")
def fake_server():
    fake = FakeGemini(api_key=KEY)
    yield fake
    fake.close()


@pytest.fixture
def fake(fake_server, addon):
    """A reset fake server with the add-on pointed at it and the key set."""
    fake_server.reset()
    fake_server.latency = 0.0
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.api_key = KEY
    prefs.base_url = fake_server.url
    prefs.timeout_s = 30.0
    bpy.context.preferences.system.use_online_access = True
    yield fake_server


@pytest.fixture
def scene(addon):
    """A fresh empty file with a camera and a cube selected."""
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.active_object
    cube.select_set(True)
    cam_data = bpy.data.cameras.new("Cam")
    cam = bpy.data.objects.new("Cam", cam_data)
    sc.collection.objects.link(cam)
    cam.location = (6, -6, 4)
    cam.rotation_euler = (1.1, 0, 0.785)
    sc.camera = cam
    sc.render.resolution_x, sc.render.resolution_y, sc.render.resolution_percentage = 320, 180, 100
    sc.nanobanana.prompt = "a weathered stone wall"
    return sc
