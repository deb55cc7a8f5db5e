#!/usr/bin/env python3
"""Screenshots of the Nano Banana sidebar in a real Blender GUI, in several states, so the
panel can be looked at after every UI change (and for the README).

    python3 build.py --platform linux-x64          # this tool builds nothing itself
    python3 tools/screenshots.py [--zip dist/nanobanana-X-linux_x64.zip] [--out DIR] [--readme]

Runs as root (the real-blender chroot needs it). Takes about 5-8 minutes (plus 1-2
minutes the very first time, while real-blender builds its chroot). Writes into --out
(default /tmp/nanobanana-shots), per state, NAME.png (the sidebar, or the area for the
preferences) and NAME_window.png (the whole 1920x1080 window), then prints their paths:

    a_ready         default model, prompt typed
    b_running       a job running (the fake answers after --latency s): progress bar
    p_header        the same job with the sidebar closed: progress and cancel in the 3D
                    View's header (NAME.png is the header's right part and some viewport)
    c_success       the result landed: success status
    f_image_editor  the Image Editor's Nano Banana tab, showing the result
    d_refusal       Gemini answered with text only (a refusal / question)
    m_quota         an error other than a refusal: 429 quota, Gemini's wait too long
    n_bad_key       the key is rejected: the error with its Preferences button
    e_retired       the scene's model is retired: box with a Switch button
    h_offline       online access off: the state line and its fix
    i_history       masked-edit options and a history of several results
    s_pick          3 variations for a material, waiting to be picked (variation_pick.py)
    o_history_many  the History panel with 64+ results: one page and its page buttons
    j_no_key        no API key: the state line and its fix
    k_shader_editor the Shader Editor's Nano Banana tab
    l_mask_paint    painting a mask in the Image Editor (the whole editor, mask controls)
    q_before_after  a masked edit: the image before and after, side by side (NAME.png only)
    g_preferences   the add-on preferences (Preferences editor in the main area)

NumPy for the chroot's Blender: Debian's blender package comes without NumPy (Blender's
own builds bundle it, and the add-on relies on that for masks, texturing and PBR maps), so
this tool provides one to that Blender only: a pinned CPython 3.13 manylinux x86_64 wheel
(NUMPY_PIN), fetched once with `pip download` into ~/.cache/nanobanana-ci/numpy-cp313,
unzipped into /tmp (the chroot sees /tmp) and put first on sys.path by the driver before
anything uses it. Nothing is installed into the chroot or the add-on.

How: a fake Gemini server (tests/fake_gemini) runs in this process on 127.0.0.1 (the
chroot shares the network). real-blender runs twice with an isolated profile under a temp
folder in /tmp: a background pass installs the zip, sets the API key/endpoint and saves a
scene.blend; a GUI pass (Xvfb) opens it and runs tools/screenshot_driver.py, which steps
through the states with bpy.app.timers and grabs the screen with ImageMagick. Standard
library only.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "screenshot_driver.py"
DEFAULT_REAL_BLENDER = "/work/shared/tools/real-blender"
SCREEN = (1920, 1080)
API_KEY = "screenshot-key"
REFUSAL = "I can't make that. Which style do you want?"
NUMPY_PIN = "2.2.6"      # has CPython 3.13 wheels (Debian's Blender 4.3 runs Python 3.13)
NUMPY_CACHE = Path.home() / ".cache" / "nanobanana-ci" / "numpy-cp313"


def numpy_for_chroot_blender() -> Path:
    """A folder under /tmp holding NumPy NUMPY_PIN for CPython 3.13 (see the header)."""
    target = Path(f"/tmp/nanobanana-numpy-cp313-{NUMPY_PIN}")
    if (target / "numpy" / "__init__.py").is_file():
        return target
    pattern = f"numpy-{NUMPY_PIN}-cp313-cp313-manylinux*x86_64*.whl"
    wheels = sorted(NUMPY_CACHE.glob(pattern))
    if not wheels:
        NUMPY_CACHE.mkdir(parents=True, exist_ok=True)
        print(f"screenshots: fetching NumPy {NUMPY_PIN} (cp313) for the chroot's Blender", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", f"numpy=={NUMPY_PIN}", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.13", "--platform",
                        "manylinux2014_x86_64", "-d", str(NUMPY_CACHE)], check=True, timeout=600)
        wheels = sorted(NUMPY_CACHE.glob(pattern))
    if not wheels:
        fail(f"no {pattern} in {NUMPY_CACHE} after pip download")
    part = target.with_name(f"{target.name}.part{os.getpid()}")
    with zipfile.ZipFile(wheels[-1]) as zf:
        zf.extractall(part)
    try:
        os.rename(part, target)
    except OSError:              # another run made it meanwhile
        shutil.rmtree(part, ignore_errors=True)
    return target


# --readme: the README's images, made from this run's shots (docs/images NAME, shot,
# ImageMagick options) by the driver with the chroot's ImageMagick. Palette PNGs: each
# stays well under 300 KB.
README_SHOTS = (
    ("panel-ready.png", "a_ready", ["-colors", "128"]),
    ("panel-generating.png", "b_running", ["-colors", "128"]),
    ("header-progress.png", "p_header", ["-colors", "128"]),
    ("panel-refusal.png", "d_refusal", ["-colors", "128"]),
    ("panel-error.png", "m_quota", ["-colors", "128"]),
    ("panel-pick-variation.png", "s_pick", ["-colors", "192"]),
    ("panel-history.png", "o_history_many", ["-colors", "192"]),
    ("mask-painting.png", "l_mask_paint", ["-resize", "1100x>", "-colors", "128"]),
    ("masked-edit-before-after.png", "q_before_after", ["-resize", "900x>", "-colors", "256"]),
)
README_MAX_BYTES = 300_000


def copy_readme(out: Path, dest: Path) -> None:
    """Copy the README images the driver made (OUT/readme) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, _shot, _opts in README_SHOTS:
        src = out / "readme" / name
        if not src.is_file():
            print(f"screenshots: no {src}: docs/images/{name} not updated", file=sys.stderr)
            continue
        shutil.copy2(src, dest / name)
        size = src.stat().st_size
        print(f"{dest / name}  {size / 1000:.0f} KB" + ("  (over 300 KB!)" if size > README_MAX_BYTES else ""))


def fail(msg: str, code: int = 2) -> None:
    print(f"screenshots: {msg}", file=sys.stderr)
    sys.exit(code)


def newest_zip() -> Path:
    zips = sorted((REPO / "dist").glob("*linux_x64.zip"), key=lambda p: p.stat().st_mtime)
    if not zips:
        fail(f"no {REPO / 'dist'}/*linux_x64.zip: run `python3 build.py --platform linux-x64` "
             "first, or pass --zip")
    return zips[-1]


def run(cmd: list[str], log: Path, timeout: float, env: dict) -> int:
    """Run in its own process group; on timeout stop the whole group (Xvfb, Blender)."""
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd="/tmp", env=env,
                                start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=15)
                    break
                except subprocess.TimeoutExpired:
                    continue
            raise


def tail(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zip", type=Path, help="built extension zip (default: newest "
                    "dist/*linux_x64.zip)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/nanobanana-shots"),
                    help="folder for the PNGs (default: %(default)s); must be under /tmp")
    ap.add_argument("--real-blender", default=os.environ.get("REAL_BLENDER", DEFAULT_REAL_BLENDER),
                    help="the real-blender launcher (default: $REAL_BLENDER or %(default)s)")
    ap.add_argument("--latency", type=float, default=20.0,
                    help="seconds the fake takes for the first image (state b), default 20")
    ap.add_argument("--timeout", type=float, default=720.0,
                    help="longest GUI pass in seconds (default 720); the setup pass gets "
                         "600 s since the first run builds the chroot")
    ap.add_argument("--keep", action="store_true", help="keep the temp work folder (profile, logs)")
    ap.add_argument("--readme", action="store_true",
                    help="also write the README's images into docs/images (see README_SHOTS)")
    args = ap.parse_args(argv)

    rb = Path(args.real_blender)
    if not (rb.is_file() and os.access(rb, os.X_OK)):
        fail(f"real-blender not found or not executable at {rb} (pass --real-blender or set "
             "REAL_BLENDER)")
    if os.geteuid() != 0:
        fail("real-blender needs root (chroot); run this as root")
    zip_path = (args.zip or newest_zip()).resolve()
    if not zip_path.is_file():
        fail(f"no such zip: {zip_path}")
    out = args.out.resolve()
    if not str(out).startswith("/tmp/"):
        fail("--out must be under /tmp (the only host folder Blender's chroot sees)")
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.png"), *out.glob("readme/*.png")]:
        old.unlink()

    sys.path.insert(0, str(REPO / "tests"))
    from fake_gemini import FakeGemini
    from fake_gemini import responses as R

    work = Path(tempfile.mkdtemp(prefix="nb-shots-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY", "REAL_BLENDER_ENV")}
    for var, sub in (("BLENDER_USER_CONFIG", "config"), ("BLENDER_USER_SCRIPTS", "scripts"),
                     ("BLENDER_USER_EXTENSIONS", "extensions"), ("BLENDER_USER_DATAFILES", "datafiles")):
        (work / "profile" / sub).mkdir(parents=True)
        env[var] = str(work / "profile" / sub)
    shutil.copy2(zip_path, work / zip_path.name)
    shutil.copy2(DRIVER, work / DRIVER.name)
    t0 = time.monotonic()
    fake = FakeGemini(api_key=API_KEY)
    ok = False
    try:
        # Only generateContent calls take from this queue, in order: states b, d, m, n;
        # every later call gets an image.
        fake.script(R.slow(args.latency, R.image()), R.text_only(REFUSAL), R.quota("90s"),
                    R.api_key_invalid())
        cfg = {"work": str(work), "out": str(out), "zip": str(work / zip_path.name),
               "numpy_path": str(numpy_for_chroot_blender()),
               "readme": [list(r) for r in README_SHOTS] if args.readme else [],
               "api_key": API_KEY, "base_url": fake.url, "latency": args.latency,
               "running_shot_after": min(6.0, args.latency / 2), "timeout": max(10.0, args.timeout - 20)}
        (work / "config.json").write_text(json.dumps(cfg, indent=1))
        driver, config = str(work / DRIVER.name), str(work / "config.json")

        print(f"screenshots: setup pass (install {zip_path.name}, fake at {fake.url})", flush=True)
        rc = run([str(rb), "--", "-b", "--python-exit-code", "1", "--python", driver, "--", config],
                 work / "blender-setup.log", 600, env)
        if rc != 0 or not (work / "scene.blend").exists():
            fail(f"setup pass failed (exit {rc}):\n{tail(work / 'blender-setup.log')}", 1)

        print("screenshots: GUI pass", flush=True)
        w, h = SCREEN
        rc = run([str(rb), "--gui", "--screen", f"{w}x{h}x24", "--",
                  "-p", "0", "0", str(w), str(h), "--online-mode", "--no-window-focus",
                  str(work / "scene.blend"), "--python", driver, "--", config],
                 work / "blender-gui.log", args.timeout, env)
        manifest_path = work / "shots.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        if manifest.get("error") or not manifest.get("shots"):
            fail(f"GUI pass failed (exit {rc}): {manifest.get('error') or 'no shots.json'}\n"
                 f"{tail(work / 'driver.log')}\n--- blender ---\n{tail(work / 'blender-gui.log')}", 1)
        shutil.copy2(manifest_path, out / "shots.json")
        for shot in manifest["shots"]:
            for key in ("panel", "window"):
                if shot.get(key) and Path(shot[key]).is_file():
                    print(shot[key])
        print(f"screenshots: {len(manifest['shots'])} states, sidebar {manifest.get('sidebar_width')} px "
              f"wide, in {time.monotonic() - t0:.0f} s; details in {out / 'shots.json'}", flush=True)
        if args.readme:
            copy_readme(out, REPO / "docs" / "images")
        ok = True
        return 0
    except subprocess.TimeoutExpired as exc:
        fail(f"timed out after {exc.timeout:.0f} s: {' '.join(map(str, exc.cmd))[:200]}\n"
             f"{tail(work / 'driver.log')}", 1)
    finally:
        fake.close()
        if args.keep or not ok:
            print(f"screenshots: work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
