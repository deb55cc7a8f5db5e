"""The command line in the real Blender program (`blender -c nanobanana ...`), not the bpy
module: Debian's Blender 4.3 in a chroot (`../shared/tools/real-blender`), with the built
zip installed into a private profile under /tmp and the fake Gemini served from this
process (the chroot shares the network). Skips, saying why, where that cannot run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from fake_gemini import FakeGemini  # noqa: E402

from tools.blender_session import built_zip as find_built_zip  # noqa: E402

KEY = "cli-test-key-93ab"
TOOL = Path(os.environ.get("NANOBANANA_REAL_BLENDER") or ROOT.parent / "shared" / "tools" / "real-blender")
CHROOT = Path(os.environ.get("REAL_BLENDER_CHROOT") or "/var/tmp/trixie-blender")
TIMEOUT = 180


def _why_not() -> str | None:
    if not TOOL.is_file():
        return f"no real-blender tool at {TOOL}"
    if os.name != "posix" or os.geteuid() != 0:
        return "real-blender needs root (chroot, mount)"
    if not (CHROOT / "usr" / "bin" / "blender").exists() and shutil.which("debootstrap") is None \
            and shutil.which("apt-get") is None:
        return "no Blender chroot and no debootstrap to make one"
    return None


def built_zip() -> str:
    path = find_built_zip(ROOT)
    if path is None:
        pytest.skip("no built linux-x64 zip in dist/: run `python3 build.py` first")
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict:
        """The JSON summary line (Blender may print other lines)."""
        lines = [ln for ln in self.stdout.splitlines() if ln.startswith('{"command"')]
        assert len(lines) == 1, f"expected one JSON summary line, got:\n{self.stdout}\n{self.stderr}"
        return json.loads(lines[0])

    @property
    def progress(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.startswith("nanobanana:")]


class Blender:
    """Runs the real Blender with the private profile and the fake as endpoint."""

    def __init__(self, profile: Path, fake: FakeGemini):
        self.profile, self.fake = profile, fake
        self.work = profile / "work"
        self.work.mkdir(exist_ok=True)

    def env(self, key: str | None = KEY) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "REAL_BLENDER_ENV")}
        for var, sub in (("BLENDER_USER_CONFIG", "config"), ("BLENDER_USER_SCRIPTS", "scripts"),
                         ("BLENDER_USER_EXTENSIONS", "extensions"), ("BLENDER_USER_DATAFILES", "datafiles")):
            env[var] = str(self.profile / sub)
        env["GOOGLE_GEMINI_BASE_URL"] = self.fake.url
        if key:
            env["GEMINI_API_KEY"], env["REAL_BLENDER_ENV"] = key, "GEMINI_API_KEY"
        return env

    def history_sidecars(self) -> list[dict]:
        """The history folder's sidecars, read from the host."""
        root = self.profile / "extensions" / ".user" / "user_default" / "nanobanana" / "history"
        return [json.loads(p.read_text()) for p in sorted(root.glob("*/*.json"))]

    def raw(self, *args: str, key: str | None = KEY, stdin: str | None = None, gui: bool = False) -> Run:
        """Blender with ARGS (`gui`: its real UI under Xvfb, where timers fire)."""
        tool = [str(TOOL), "--gui", "--"] if gui else [str(TOOL), "--"]
        proc = subprocess.run([*tool, *args], cwd=self.work, env=self.env(key),
                              capture_output=True, text=True, timeout=TIMEOUT, input=stdin)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def cli(self, *args: str, online: bool = True, key: str | None = KEY, stdin: str | None = None) -> Run:
        pre = ("--online-mode",) if online else ()
        return self.raw(*pre, "-c", "nanobanana", *args, key=key, stdin=stdin)


@pytest.fixture(scope="session")
def fake():
    server = FakeGemini(api_key=KEY, image_scale=0.1)
    yield server
    server.close()


@pytest.fixture(scope="session")
def blender(fake):
    why = _why_not()
    if why:
        pytest.skip(why)
    zip_path = built_zip()
    profile = Path(tempfile.mkdtemp(prefix="nb-cli-", dir="/tmp"))
    for sub in ("config", "scripts", "extensions", "datafiles"):
        (profile / sub).mkdir()
    b = Blender(profile, fake)
    shutil.copy(zip_path, profile / "nanobanana.zip")
    # Install through Blender's own extension manager; leave online access OFF in the saved
    # preferences, so each test says --online-mode (or not) like a user would.
    script = ("import bpy, sys\n"
              "p = bpy.context.preferences\n"
              f"bpy.ops.extensions.package_install_files(filepath={str(profile / 'nanobanana.zip')!r}, "
              "repo='user_default', enable_on_install=True)\n"
              "ok = 'bl_ext.user_default.nanobanana' in p.addons\n"
              "p.system.use_online_access = False\n"
              "bpy.ops.wm.save_userpref()\n"
              "print('NB-INSTALLED' if ok else 'NB-NOT-INSTALLED')\n")
    run = b.raw("-b", "--factory-startup", "--python-expr", script)
    if "NB-INSTALLED" not in run.stdout:
        pytest.fail(f"install into the real Blender failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    yield b
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def cli(blender, fake):
    fake.reset()
    fake.image_scale = 0.1
    return blender
