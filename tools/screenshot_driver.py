"""Runs INSIDE Blender, started by tools/screenshots.py; not meant to be run by hand.

    blender -b --python tools/screenshot_driver.py -- CONFIG.json          (setup pass)
    blender scene.blend --python tools/screenshot_driver.py -- CONFIG.json (GUI pass)

Setup pass (background): installs the extension zip into the isolated profile, points the
add-on at the fake Gemini server, saves the preferences and a scene.blend (opening a .blend
in the GUI pass keeps the splash screen away).

GUI pass: a bpy.app.timers generator walks through the panel states, grabs the X screen
with ImageMagick's `import` after each one and crops the sidebar (or area) out of it with
`convert`. Writes CONFIG["out"]/shots.json (what was shot, crop boxes, the status line
shown) and driver.log. Any exception ends Blender with shots.json saying why.
"""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
import traceback

import bpy

MODULE = "bl_ext.user_default.nanobanana"
CFG = json.load(open(sys.argv[sys.argv.index("--") + 1]))
OUT = CFG["out"]
PROMPT = CFG.get("prompt", "A weathered bronze fox statue on a mossy rock, soft studio light")
_log = open(os.path.join(CFG["work"], "driver.log"), "a", buffering=1)
if CFG.get("numpy_path") and CFG["numpy_path"] not in sys.path:
    # Debian's Blender has no NumPy; screenshots.py unzipped a cp313 wheel here (its header
    # says why). First on the path, before any masked edit or mask tool imports numpy.
    sys.path.insert(0, CFG["numpy_path"])
TAB_STRIP = 30          # px at the sidebar's right edge: the category tabs
_manifest: dict = {"shots": [], "error": None, "blender": bpy.app.version_string}


def log(*parts) -> None:
    print("[shots]", *parts, flush=True)
    _log.write(" ".join(str(p) for p in parts) + "\n")


def write_manifest() -> None:
    with open(os.path.join(CFG["work"], "shots.json"), "w") as fh:
        json.dump(_manifest, fh, indent=1)


def addon():
    return importlib.import_module(MODULE)


def runtime():
    return importlib.import_module(MODULE + ".blender.runtime")


# ------------------------------------------------------------------ setup (background)
def setup() -> None:
    prefs = bpy.context.preferences
    prefs.system.use_online_access = True
    bpy.ops.extensions.package_install_files(filepath=CFG["zip"], repo="user_default",
                                             enable_on_install=True)
    if MODULE not in prefs.addons:
        raise RuntimeError(f"the extension did not install/enable from {CFG['zip']}")
    ap = prefs.addons[MODULE].preferences
    ap.api_key = CFG["api_key"]
    ap.base_url = CFG["base_url"]
    prefs.view.show_splash = False
    prefs.view.use_save_prompt = False
    bpy.ops.wm.save_userpref()
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(CFG["work"], "scene.blend"))
    log("setup done:", MODULE, "installed; prefs and scene.blend saved")


# ------------------------------------------------------------------ GUI helpers
def window():
    return bpy.context.window_manager.windows[0]


def area_of(kind: str):
    return max((a for a in window().screen.areas if a.type == kind),
               key=lambda a: a.width * a.height, default=None)


def region_of(area, kind: str = "UI"):
    return next(r for r in area.regions if r.type == kind)


def redraw() -> None:
    win = window()
    for a in win.screen.areas:
        a.tag_redraw()
    with bpy.context.temp_override(window=win):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=1)


def show_sidebar(area) -> None:
    area.spaces.active.show_region_ui = True


def set_tab(area, category: str = "Nano Banana") -> bool:
    region = region_of(area)
    try:
        region.active_panel_category = category
    except (TypeError, AttributeError) as exc:   # categories not built yet: draw, retry
        log("tab not set yet:", exc)
        return False
    return True


def op(name: str, area=None, region_kind: str = "UI", **kw):
    """Call bpy.ops.<name> as if from the given area's sidebar."""
    area = area or area_of("VIEW_3D")
    mod, fn = name.split(".")
    with bpy.context.temp_override(window=window(), area=area, region=region_of(area, region_kind)):
        return getattr(getattr(bpy.ops, mod), fn)(**kw)


def box_of(area, region=None) -> tuple[int, int, int, int]:
    """(left, top, width, height) in X11 screen pixels (top-down) of a region or area.
    The window is opened at the screen's top-left corner (-p 0 0 W H)."""
    r = region or area
    win = window()
    return r.x, win.height - (r.y + r.height), r.width, r.height


def status() -> dict:
    st = runtime().STATE.status
    return {"text": st.text, "level": st.level, "fix": st.fix}


def grab(path: str) -> None:
    subprocess.run(["import", "-window", "root", path], check=True, timeout=60)


def crop(src: str, dst: str, box: tuple[int, int, int, int]) -> None:
    left, top, w, h = box
    subprocess.run(["convert", src, "-crop", f"{w}x{h}+{left}+{top}", "+repage", "-strip", dst],
                   check=True, timeout=60)


def content_height(shot: str, ref: str, width: int, height: int) -> int:
    """Rows down to the last one that differs from `ref` left of the tab strip, plus a
    margin. `ref` is the same box without the content (the sidebar hidden: it overlaps
    the editor, so below the last panel it shows what `ref` shows)."""
    cmd = ["convert", ref, shot, "-crop", f"{max(1, width - TAB_STRIP)}x{height}+0+0", "+repage",
           "-compose", "difference", "-composite", "-colorspace", "gray", "-threshold", "4%",
           "-format", "%@", "info:"]
    geo = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        size, y = geo.split("+")[0], int(geo.split("+")[2])
        bottom = y + int(size.split("x")[1])
    except (IndexError, ValueError):
        log("no content box from", repr(geo))
        return height
    return height if bottom <= 1 else min(height, bottom + 8)


def reference(name: str, box: tuple[int, int, int, int]) -> str:
    """The box as it looks with the sidebar hidden (call before showing it)."""
    full = os.path.join(CFG["work"], f"ref_{name}_window.png")
    ref = os.path.join(CFG["work"], f"ref_{name}.png")
    grab(full)
    crop(full, ref, box)
    return ref


def shoot(name: str, what: str, box: tuple[int, int, int, int] | None, ref: str | None = None) -> None:
    """NAME_window.png (the screen) and NAME.png (the box, cut below the last panel when
    a reference of the box without the sidebar is given)."""
    full = os.path.join(OUT, f"{name}_window.png")
    grab(full)
    entry = {"name": name, "what": what, "window": full, "status": status(),
             "jobs_running": len(runtime().STATE.jobs.running())}
    if box is not None:
        left, top, w, h = box
        panel = os.path.join(OUT, f"{name}.png")
        crop(full, panel, box)
        if ref is not None:
            h2 = content_height(panel, ref, w, h)
            if h2 < h:
                crop(full, panel, (left, top, w, h2))
            entry["content_height"] = h2
        entry.update(panel=panel, box=list(box))
    _manifest["shots"].append(entry)
    write_manifest()
    log("shot", name, entry.get("box"), entry.get("content_height"), entry["status"])


def shoot_box(name: str, what: str, box: tuple[int, int, int, int]) -> str:
    """NAME.png = that box of the screen now (no window shot kept); returns its path."""
    full = os.path.join(CFG["work"], f"{name}_full.png")
    grab(full)
    path = os.path.join(OUT, f"{name}.png")
    crop(full, path, box)
    entry = {"name": name, "what": what, "panel": path, "box": list(box), "status": status(),
             "jobs_running": len(runtime().STATE.jobs.running())}
    _manifest["shots"].append(entry)
    write_manifest()
    log("shot", name, box, entry["status"])
    return path


def idle():
    """Generator helper: wait for every job to end and its images to land (the pump lands
    one image per tick, and each tick redraws: about a second per image under llvmpipe),
    then for the panels to settle (a panel that grows slides the ones below it)."""
    pump = importlib.import_module(MODULE + ".blender.pump")
    yield 0.5
    yield from wait_until(lambda: not runtime().STATE.jobs.running() and not pump._landings, 180)
    yield from settle(1.5)
    yield from settle(1.0)


def scroll(area, down: bool, pages: int = 20) -> None:
    """Scroll the area's sidebar to its end (down) or back to its top."""
    name = "view2d.scroll_down" if down else "view2d.scroll_up"
    for _ in range(pages):
        try:
            op(name, area, page=True)
        except RuntimeError as exc:
            log("scroll:", exc)
            return


def wait_until(pred, timeout: float, step: float = 0.25):
    """Generator helper: yield delays until pred() is true or timeout passes."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(f"waited {timeout:.0f} s for {getattr(pred, '__name__', pred)}")
        yield step


def settle(seconds: float = 0.8):
    """Let the add-on's timer and Blender draw, then force one more full redraw."""
    yield seconds
    redraw()
    yield 0.4
    redraw()
    yield 0.2


def from_image(ima, name: str):
    """Generator: CONFIG["work"]/NAME.png = the Image Editor's image, fitted, no sidebars."""
    space = ima.spaces.active
    space.show_region_ui = space.show_region_toolbar = False
    yield from settle(0.6)
    with bpy.context.temp_override(window=window(), area=ima, region=region_of(ima, "WINDOW")):
        bpy.ops.image.view_all(fit_view=True)
    yield from settle(1.0)
    left, top, width, height = box_of(ima, region_of(ima, "WINDOW"))
    side = min(width, height) - 40                 # the fitted image: a centred square
    full = os.path.join(CFG["work"], f"{name}_full.png")
    grab(full)
    crop(full, os.path.join(CFG["work"], f"{name}.png"),
         (left + (width - side) // 2, top + (height - side) // 2, side, side))


# ------------------------------------------------------------------ the states
def states():
    s = bpy.context.scene.nanobanana
    v3d = area_of("VIEW_3D")
    if v3d is None:
        raise RuntimeError("no 3D View in the opened file")
    # The sidebar's box, then the same box with the sidebar hidden (to cut panel shots
    # below the last panel), then the sidebar again.
    show_sidebar(v3d)
    yield from settle(1.0)
    box = box_of(v3d, region_of(v3d))
    v3d.spaces.active.show_region_ui = False
    yield from settle(1.0)
    ref3d = reference("view3d", box)
    show_sidebar(v3d)
    yield from settle(1.5)
    for _ in range(20):
        if set_tab(v3d):
            break
        redraw()
        yield 0.5
    else:
        raise RuntimeError("could not switch the sidebar to the Nano Banana tab")
    ui = region_of(v3d)
    _manifest["sidebar_width"] = ui.width
    _manifest["window"] = [window().width, window().height]

    # (a) ready: default model, a prompt typed
    s.prompt = PROMPT
    yield from settle(1.0)
    shoot("a_ready", "Ready: default model, prompt typed", box_of(v3d, ui), ref3d)

    # (b) a job running, in the sidebar (the fake answers the first generate after LATENCY s);
    # then (p) the same job with the sidebar closed: progress and cancel in the editor header
    op("nanobanana.generate")
    yield from settle(CFG.get("running_shot_after", 6.0) / 2)
    if not runtime().STATE.jobs.running():
        raise RuntimeError(f"no job running after Generate; status: {status()}")
    shoot("b_running", "A job running (progress bar)", box_of(v3d, ui), ref3d)
    v3d.spaces.active.show_region_ui = False
    yield from settle(0.5)
    if not runtime().STATE.jobs.running():
        raise RuntimeError("the job ended before the header shot: raise --latency")
    left, top, width, height = box_of(v3d, region_of(v3d, "HEADER"))
    cut = min(width, 760)
    shoot_box("p_header", "Sidebar closed: the running job in the 3D View header, with cancel",
              (left + width - cut, top, cut, height + 190))
    show_sidebar(v3d)
    yield from settle(0.5)
    set_tab(v3d)

    # (c) the result landed
    yield from wait_until(lambda: not runtime().STATE.jobs.running(), CFG["latency"] + 60)
    yield from settle(1.5)
    shoot("c_success", "Success status after the result landed", box_of(v3d, ui), ref3d)

    # (f) Image Editor tab (the 3D View area turned into an Image Editor, shows the result)
    v3d.type = "IMAGE_EDITOR"
    ima = v3d
    space = ima.spaces.active
    result = next((i for i in reversed(bpy.data.images) if "nanobanana_entry" in i.keys()), None)
    if result is not None:
        space.image = result
    space.show_region_ui = False
    yield from settle(1.0)
    with bpy.context.temp_override(window=window(), area=ima, region=region_of(ima, "WINDOW")):
        bpy.ops.image.view_all(fit_view=True)
    show_sidebar(ima)
    yield from settle(1.0)
    box = box_of(ima, region_of(ima))
    space.show_region_ui = False
    yield from settle(1.0)
    ref_ima = reference("image", box)
    show_sidebar(ima)
    yield from settle(1.0)
    for _ in range(20):
        if set_tab(ima):
            break
        redraw()
        yield 0.5
    yield from settle(1.0)
    shoot("f_image_editor", "Image Editor sidebar tab, result shown", box_of(ima, region_of(ima)),
          ref_ima)
    ima.type = "VIEW_3D"
    yield from settle(1.0)
    set_tab(v3d)
    ui = region_of(v3d)

    # (d) refusal: Gemini answers with text only
    op("nanobanana.generate")
    yield 1.0
    yield from wait_until(lambda: not runtime().STATE.jobs.running(), 60)
    yield from settle(1.5)
    shoot("d_refusal", "Text-only answer (refusal / question)", box_of(v3d, ui), ref3d)

    # (m) and (n): errors other than a refusal (the fake's next two answers)
    op("nanobanana.generate")
    yield from idle()
    shoot("m_quota", "Error: 429 quota with a wait longer than the add-on accepts", box_of(v3d, ui), ref3d)
    op("nanobanana.generate")
    yield from idle()
    shoot("n_bad_key", "Error: the API key was rejected, with its fix", box_of(v3d, ui), ref3d)

    # (e) a scene whose model is retired
    op("nanobanana.switch_model", model=CFG.get("retired_model", "gemini-2.5-flash-image"))
    yield from settle(1.5)
    shoot("e_retired", "Scene model retired: box with a Switch button", box_of(v3d, ui), ref3d)

    # (h) offline: what stops generation, with its fix
    bpy.context.preferences.system.use_online_access = False
    yield from settle(1.5)
    shoot("h_offline", "Online access off: the state line and its fix", box_of(v3d, ui), ref3d)
    bpy.context.preferences.system.use_online_access = True
    op("nanobanana.switch_model", model="gemini-nano-banana-2.1")

    # (i) a masked edit set up, and the history after a few results
    s.use_mask = True
    for prompt in ("Mossy cobblestone path, seamless", "Rusty corrugated metal sheet with "
                   "peeling blue paint and bird droppings near the top edge"):
        s.prompt = prompt
        op("nanobanana.generate")
        yield 0.5
        yield from wait_until(lambda: not runtime().STATE.jobs.running(), 60)
    op("nanobanana.dismiss_status")
    yield from settle(1.5)
    shoot("i_history", "Masked edit options and a history of results", box_of(v3d, ui), ref3d)
    s.use_mask = False

    # (s) three variations for the selected cube's material, waiting to be picked
    s.prompt, s.variations, s.result_target = "Mossy cobblestone path, seamless", 3, "MATERIAL"
    op("nanobanana.generate")
    yield from idle()
    pick = importlib.import_module(MODULE + ".blender.variation_pick")
    if not pick.pending():
        raise RuntimeError(f"no variations waiting after 3 variations; status: {status()}")
    shoot("s_pick", "Three variations waiting to be picked before the material changes",
          box_of(v3d, ui), ref3d)
    op("nanobanana.pick_variation", index=1)
    yield from settle(1.0)

    # (o) many results: 8 clicks of 8 variations, then the end of the sidebar (History)
    s.variations, s.result_target = 8, "IMAGE"
    for k in range(8):
        s.prompt = ("Rusty corrugated metal sheet", "Mossy cobblestone path", "Oak planks, worn",
                    "Cracked desert mud", "Blue ceramic tiles", "Brushed steel panel",
                    "Red brick wall", "Marble with gold veins")[k]
        op("nanobanana.generate")
        yield from idle()
    s.variations = 1
    s.prompt = PROMPT
    op("nanobanana.dismiss_status")
    yield from settle(1.0)
    scroll(v3d, down=True)
    yield from settle(1.5)
    shoot("o_history_many", "History with 64+ results: one page and the page buttons", box_of(v3d, ui))
    scroll(v3d, down=False)
    yield from settle(0.5)

    # (j) no API key: the state line and its fix
    ap = bpy.context.preferences.addons[MODULE].preferences
    saved_key, ap.api_key = ap.api_key, ""
    yield from settle(1.5)
    shoot("j_no_key", "No API key: the state line and its fix", box_of(v3d, ui), ref3d)
    ap.api_key = saved_key

    # (k) the Shader Editor's tab, and (l) painting a mask in the Image Editor
    v3d.type = "NODE_EDITOR"
    v3d.ui_type = "ShaderNodeTree"
    show_sidebar(v3d)
    yield from settle(1.0)
    for _ in range(20):
        if set_tab(v3d):
            break
        redraw()
        yield 0.5
    yield from settle(1.0)
    shoot("k_shader_editor", "Shader Editor sidebar tab", box_of(v3d, region_of(v3d)))
    v3d.type = "IMAGE_EDITOR"
    ima = v3d
    yield from settle(0.5)          # spaces.active is the Image Editor's only after a redraw
    space = ima.spaces.active
    tiles = bpy.data.images.new("Tiles", 1024, 1024)     # the texture to edit: Blender's colour grid
    tiles.generated_type = "COLOR_GRID"
    space.image = tiles
    yield from from_image(ima, "before")
    with bpy.context.temp_override(window=window(), area=ima, region=region_of(ima, "WINDOW")):
        bpy.ops.nanobanana.mask_new()         # shows the mask, in paint mode
        bpy.ops.nanobanana.mask_rectangle(corner_min=(0.3, 0.3), corner_max=(0.7, 0.6))
    space.mode = "PAINT"
    space.show_region_toolbar = True
    space.show_region_tool_header = True       # the brush's colour, radius and strength
    show_sidebar(ima)
    yield from settle(1.0)
    set_tab(ima)
    with bpy.context.temp_override(window=window(), area=ima, region=region_of(ima, "WINDOW")):
        bpy.ops.image.view_all(fit_view=True)
    yield from settle(1.5)
    shoot("l_mask_paint", "Painting a mask in the Image Editor (brush tools, mask controls)", box_of(ima))

    # (q) the masked edit itself, and the image before and after, side by side
    space.mode = "VIEW"
    space.image = tiles
    s.prompt = "Replace the tiles in the painted area with rusty metal"
    yield from settle(0.5)
    op("nanobanana.edit_texture", ima)
    yield from idle()
    if space.image is tiles:
        raise RuntimeError(f"the masked edit did not land; status: {status()}")
    yield from from_image(ima, "after")
    before, after = (os.path.join(CFG["work"], f"{k}.png") for k in ("before", "after"))
    both = os.path.join(OUT, "q_before_after.png")
    subprocess.run(["convert", before, after, "-bordercolor", "#303030", "-border", "6", "+append",
                    "-strip", both], check=True, timeout=60)
    _manifest["shots"].append({"name": "q_before_after", "what": "Masked edit: before and after",
                               "panel": both, "status": status()})
    write_manifest()
    s.use_mask = False
    space.show_region_toolbar = True
    v3d.type = "VIEW_3D"
    yield from settle(1.0)
    set_tab(v3d)
    ui = region_of(v3d)

    # (g) the add-on preferences, in the big area (no second OS window to place)
    v3d.type = "PREFERENCES"
    yield from settle(0.5)
    bpy.context.preferences.active_section = "ADDONS"
    wm = bpy.context.window_manager
    wm.addon_search = "no add-on matches this"      # the empty list: reference to cut below
    yield from settle(1.0)
    ref_prefs = reference("prefs", box_of(v3d))
    wm.addon_search = "Nano Banana"   # the manifest name
    try:
        import addon_utils  # what the entry's expand arrow toggles (preferences.addon_expand)
        addon_utils.modules(refresh=False)
        addon_utils.module_bl_info(addon_utils.addons_fake_modules[MODULE])["show_expanded"] = True
    except Exception as exc:  # noqa: BLE001 - a folded entry is still a useful shot
        log("could not expand the add-on entry:", exc)
    yield from settle(1.5)
    shoot("g_preferences", "Add-on preferences", box_of(v3d), ref_prefs)
    v3d.type = "VIEW_3D"
    yield 0.3


def readme_images() -> None:
    """CONFIG["readme"]: (name, shot, ImageMagick options) -> OUT/readme/name (palette PNG)."""
    if not CFG.get("readme"):
        return
    folder = os.path.join(OUT, "readme")
    os.makedirs(folder, exist_ok=True)
    for name, shot, opts in CFG["readme"]:
        src = os.path.join(OUT, f"{shot}.png")
        if os.path.exists(src):
            subprocess.run(["convert", src, "+dither", *opts, "-strip", f"PNG8:{os.path.join(folder, name)}"],
                           check=True, timeout=120)
    log("README images written to", folder)


def run_states():
    gen = states()

    def tick():
        try:
            return next(gen)
        except StopIteration:
            log("all states done")
            try:
                readme_images()
            except Exception as exc:  # noqa: BLE001 - the shots are there; say why these are not
                _manifest["error"] = f"README images: {type(exc).__name__}: {exc}"
                log(traceback.format_exc())
        except Exception as exc:  # noqa: BLE001 - recorded for the host, then quit
            _manifest["error"] = f"{type(exc).__name__}: {exc}"
            log(traceback.format_exc())
        write_manifest()
        quit_blender()
        return None
    bpy.app.timers.register(tick, first_interval=CFG.get("start_delay", 2.0))


def quit_blender() -> None:
    bpy.context.preferences.view.use_save_prompt = False
    threading.Timer(10.0, lambda: os._exit(0)).start()     # if the quit is refused
    try:
        with bpy.context.temp_override(window=window()):
            bpy.ops.wm.quit_blender()
    except Exception:  # noqa: BLE001
        os._exit(0)


def watchdog(seconds: float) -> None:
    def fire():
        _manifest["error"] = _manifest["error"] or f"driver watchdog: not done after {seconds:.0f} s"
        write_manifest()
        log(_manifest["error"])
        os._exit(3)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


try:
    if bpy.app.background:
        setup()
    else:
        if MODULE not in bpy.context.preferences.addons:
            raise RuntimeError(f"{MODULE} is not enabled in the GUI session")
        watchdog(CFG.get("timeout", 240.0))
        run_states()
except Exception as exc:  # noqa: BLE001
    _manifest["error"] = f"{type(exc).__name__}: {exc}"
    log(traceback.format_exc())
    write_manifest()
    if bpy.app.background:
        sys.exit(1)
    os._exit(1)
