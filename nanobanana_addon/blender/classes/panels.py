"""Declaration of the "Nano Banana" sidebar tab's panels in the 3D View, Image Editor and
Shader Editor: ids, labels, options, parents, order. What they draw is `blender/panels.py`
(its SECTIONS), loaded on the first draw."""
import bpy

from ..lazy import behaviour

CATEGORY = "Nano Banana"
# (name part, label, options, behaviour in panels.py), in the sidebar's order; the
# first is the parent of the others.
SECTIONS: tuple[tuple[str, str, set[str], str], ...] = (
    ("main", "Nano Banana", set(), "Main"),
    ("texture", "Texture", set(), "Texture"),
    ("refs", "Reference Images", {"DEFAULT_CLOSED"}, "References"),
    ("materials", "Materials & PBR", {"DEFAULT_CLOSED"}, "Materials"),
    ("history", "History", set(), "History"))
SPACES = (("VIEW_3D", "view3d"), ("IMAGE_EDITOR", "image"), ("NODE_EDITOR", "node"))
ONLY_IN = {"texture": "VIEW_3D"}      # sections that belong to one editor


def _panel(space: str, suffix: str, part: str, label: str, options: set, impl: str) -> type:
    name = f"NANOBANANA_PT_{part}_{suffix}"
    attrs = {"bl_space_type": space, "bl_region_type": "UI", "bl_category": CATEGORY,
             "bl_label": label, "bl_idname": name, "bl_options": set(options)}
    callbacks = ("draw", "poll") if part == "main" else ("draw",)
    if part != "main":
        attrs["bl_parent_id"] = f"NANOBANANA_PT_main_{suffix}"
    return behaviour(f"panels:{impl}", *callbacks)(type(name, (bpy.types.Panel,), attrs))


CLASSES = tuple(_panel(space, suffix, *section) for space, suffix in SPACES for section in SECTIONS
                if ONLY_IN.get(section[0], space) == space)
