"""The "Materials & PBR" sidebar section (issue 12): material prompt presets, how Seamless
results are made to tile, the real-world tile size, and PBR maps from the active texture.
One entry in panels.SECTIONS draws it in every editor that has the Nano Banana tab."""
from __future__ import annotations

from ..core import models, presets
from . import properties


def draw_materials(layout, context) -> None:
    from . import ui_text
    s = context.scene.nanobanana
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    col.prop(s, "material_preset", text="Preset")
    if s.material_preset != properties.NO_PRESET:
        p = presets.lookup(s.material_preset)
        for line in ui_text.wrap(f"Written into the prompt; a tile shows {p.scale}",
                                 ui_text.available(context)):
            col.label(text=line)

    box = layout.box()
    box.prop(s, "seamless")
    sub = box.column()
    sub.use_property_split = True
    sub.use_property_decorate = False
    sub.active = s.seamless
    sub.prop(s, "seamless_fix")
    if s.seamless_fix == "MODEL":
        extra = models.estimate_cost(properties.model_id(s), s.image_size, s.variations, 2)
        price = f"up to ${extra:.3f}" if extra is not None else "price unknown"
        for line in ui_text.wrap(f"Seam repair: {price} more when a result does not tile",
                                 ui_text.available(context)):
            sub.label(text=line)
    sub.prop(s, "tile_size")

    box = layout.box()
    box.label(text="PBR maps (free, local)", icon="NODE_MATERIAL")
    row = box.row(align=True)
    row.prop(s, "pbr_strength")
    row.prop(s, "pbr_ao", text="AO", toggle=True)
    box.operator("nanobanana.pbr_maps", icon="TEXTURE")
