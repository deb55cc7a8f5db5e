"""Issue 2: the built zip installs through Blender's extension manager, enables, imports
its bundled dependencies lazily, survives disable/enable, registers its UI."""
from __future__ import annotations

import importlib
import os
import sys

import addon_utils
import bpy
from conftest import KEY, MODULE, PROFILE, module_enabled
from ui_double import Layout


def test_enabled_from_the_built_zip(addon):
    assert module_enabled()
    assert addon.__file__.startswith(str(PROFILE / "extensions")), addon.__file__


def test_enabling_does_not_import_heavy_dependencies(addon, heavy_modules_after_enable):
    assert heavy_modules_after_enable == set(), "enabling imported " + ", ".join(heavy_modules_after_enable)


def test_enabling_compiles_declarations_not_the_feature_code(addon):
    """Bench P3: a fresh Blender process enables the add-on (bench/enable_child.py) and loads
    only the thin declarations (blender/classes), lazy.py and registration: no feature
    module, no core module; each loads on its first draw, click or tick."""
    import json
    import subprocess

    from conftest import ROOT
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "enable_child.py"), str(PROFILE)],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1])["modules"])
    assert {"blender.classes.masks", "blender.classes.settings", "blender.classes.panels",
            "blender.classes.operators", "blender.lazy", "blender.registration"} <= loaded
    code = sorted(m for m in loaded if m not in ("blender", "blender.lazy", "blender.registration")
                  and not m.startswith("blender.classes"))
    assert code == [], code


def test_bundled_wheels_import_inside_blender(addon):
    import google.genai
    from PIL import Image
    ext_root = str(PROFILE / "extensions")
    assert google.genai.__file__.startswith(ext_root), google.genai.__file__
    assert Image.__file__.startswith(ext_root), Image.__file__
    assert Image.new("RGB", (4, 4)).size == (4, 4)


def test_contract_registered(addon):
    for op in ("generate", "edit_render", "edit_texture", "refine", "cancel", "switch_model",
               "refresh_models"):
        # get_rna_type() raises KeyError for an operator that is not registered
        assert getattr(bpy.ops.nanobanana, op).get_rna_type().identifier == f"NANOBANANA_OT_{op}"
    for panel in ("NANOBANANA_PT_main_view3d", "NANOBANANA_PT_main_image", "NANOBANANA_PT_main_node"):
        cls = getattr(bpy.types, panel)
        assert cls.bl_category == "Nano Banana"
    s = bpy.context.scene.nanobanana
    s.model = "gemini-3-pro-image"
    s.aspect_ratio = "16:9"
    s.image_size = "4K"
    s.variations = 2
    assert (s.model, s.aspect_ratio, s.image_size, s.variations) == ("gemini-3-pro-image", "16:9", "4K", 2)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    assert prefs.bl_rna.properties["api_key"].subtype == "PASSWORD"


def test_disable_enable_cycle_leaves_nothing_behind(addon):
    import importlib
    gallery = importlib.import_module(MODULE + ".blender.gallery")
    gallery._thumbnails()                   # made on the first History draw, not at enable
    gallery._watch()
    addon_utils.disable(MODULE, default_set=True)
    assert gallery._previews is None and not bpy.app.timers.is_registered(gallery._poll)
    assert not module_enabled()
    assert not hasattr(bpy.types.Scene, "nanobanana")
    assert not hasattr(bpy.types, "NANOBANANA_PT_main_view3d")
    assert not [h for h in bpy.app.handlers.load_post if h.__module__.startswith(MODULE)]
    addon_utils.enable(MODULE, default_set=True)
    assert module_enabled()
    assert hasattr(bpy.types.Scene, "nanobanana")
    assert hasattr(bpy.types, "NANOBANANA_PT_main_view3d")


def _draw(context):
    mod = importlib.import_module(MODULE + ".blender.panels")     # loads on the first draw
    layout = Layout()
    mod.draw_main(layout, context)
    return layout


def test_panel_state_line_explains_what_is_missing(addon, monkeypatch):
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.api_key = ""
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    bpy.context.preferences.system.use_online_access = False
    drawn = _draw(bpy.context)
    assert "Online access is disabled" in drawn.text()
    assert "nanobanana.enable_online_access" in drawn.operators
    bpy.context.preferences.system.use_online_access = True
    drawn = _draw(bpy.context)
    assert "No Gemini API key" in drawn.text()
    assert "nanobanana.open_preferences" in drawn.operators
    monkeypatch.setenv("GEMINI_API_KEY", "from-env")
    drawn = _draw(bpy.context)
    assert "No Gemini API key" not in drawn.text()
    assert "nanobanana.generate" in drawn.operators
    assert {"prompt", "model", "aspect_ratio", "image_size", "variations"} <= set(drawn.props)
    assert any(t.startswith("Cost: ") and t.endswith(" per click") for t in drawn.labels)
    prefs.api_key = KEY


def test_nothing_written_outside_the_profile(addon):
    # Blender's temp dir and the add-on's user folder both live in the isolated profile.
    assert bpy.app.tempdir.startswith(str(PROFILE)), bpy.app.tempdir
    user = bpy.utils.extension_path_user(MODULE, create=True)
    assert user.startswith(str(PROFILE)), user
    assert os.path.isdir(user)


PANEL_ORDER = [f"NANOBANANA_PT_{part}_{suffix}" for suffix in ("view3d", "image", "node")
               for part in ("main", "texture", "refs", "materials", "history")
               if part != "texture" or suffix == "view3d"]


def test_registered_panels_and_preferences_draw_through_their_declarations(addon):
    """What Blender calls: the declared classes' poll/draw load and run the code behind
    them (panels.py, preferences.py); ids, parents and order stay those of earlier versions."""
    lazy = importlib.import_module(MODULE + ".blender.lazy")
    declared = importlib.import_module(MODULE + ".blender.classes.panels").CLASSES
    assert [cls.bl_idname for cls in declared] == PANEL_ORDER
    holder = type("Holder", (), {})()
    for name in PANEL_ORDER:
        cls = getattr(bpy.types, name)
        assert cls.bl_category == "Nano Banana"
        assert getattr(cls, "bl_parent_id", "") == ("" if "_main_" in name else
                                                    "NANOBANANA_PT_main_" + name.rpartition("_")[2])
        if "_main_" in name:
            assert cls.poll(bpy.context) is (cls.bl_space_type != "NODE_EDITOR")   # not a shader tree here
        lazy.complete(cls)          # what Blender's first draw call does
        holder.layout = Layout()
        cls.draw(holder, bpy.context)
        assert holder.layout.labels or holder.layout.props or holder.layout.operators, name
    main = bpy.types.NANOBANANA_PT_main_view3d
    holder.layout = Layout()
    main.draw(holder, bpy.context)
    assert "nanobanana.generate" in holder.layout.operators
    prefs = bpy.context.preferences.addons[MODULE].preferences
    view = type("PrefsView", (), {"layout": Layout(), "__getattr__": lambda s, k: getattr(prefs, k)})()
    lazy.complete(type(prefs))                  # what its first draw does: loads preferences.py
    type(prefs).draw(view, bpy.context)
    assert "api_key" in view.layout.props and "nanobanana.test_key" in view.layout.operators
