"""Material building blocks for textures (issue 12), main thread: an Object-space box
projection with a real-world tile size, and a PBR map set wired into a material.

The add-on marks what it made with custom properties on the Material, so later changes
find their nodes by name: MAPPING_KEY (the Mapping node the tile size drives) and PBR_KEY
(the nodes of the last PBR set, replaced when the set is made again).
"""
from __future__ import annotations

import bpy

MAPPING_KEY = "nanobanana_mapping"      # Material custom property: Mapping node name
TEXCOORD_KEY = "nanobanana_texcoord"    # Material custom property: Texture Coordinate node name
PBR_KEY = "nanobanana_pbr_nodes"        # Material custom property: names of the PBR nodes, "|"-joined
BOX_BLEND = 0.2                         # soft edges where the box projection changes side
BUMP_STRENGTH = 0.3                     # the normal map carries the detail; the bump adds some depth
MAP_LABELS = {"height": "Height", "normal": "Normal", "roughness": "Roughness",
              "ao": "AO (not connected)"}
ROW = 300                               # vertical spacing of the new image nodes
PRINCIPLED_HEIGHT = 720                 # nodes go below the Principled BSDF (no overlap)


def _prop(idblock, key: str) -> str:
    """A custom property as text ("" when absent)."""
    return str(idblock[key]) if key in idblock.keys() else ""  # type: ignore[operator]


def has_uvs(obj) -> bool:
    """False for a mesh without a UV map (its UV lookup would be one flat colour)."""
    if obj is None or obj.type != "MESH" or obj.data is None:
        return True             # curves, text, ...: Blender generates their UVs
    return len(obj.data.uv_layers) > 0


def tile_scale(tile_size: float) -> float:
    return 1.0 / max(float(tile_size), 1e-4)


def set_tile_size(mapping: bpy.types.Node, tile_size: float) -> None:
    s = tile_scale(tile_size)
    mapping.inputs["Scale"].default_value = (s, s, s)


def add_object_mapping(mat: bpy.types.Material, tex: bpy.types.Node, tile_size: float) -> bpy.types.Node:
    """Texture Coordinate (Object) -> Mapping (scale 1 / tile size) -> `tex` with box
    projection: one tile per `tile_size` metres of the object's own (unscaled) space, on
    every side, with no UVs needed. Returns the Mapping node (its name is kept on the material)."""
    tree = mat.node_tree
    coord = tree.nodes.new("ShaderNodeTexCoord")
    mapping = tree.nodes.new("ShaderNodeMapping")
    mapping.vector_type = "POINT"
    tree.links.new(coord.outputs["Object"], mapping.inputs["Vector"])
    tree.links.new(mapping.outputs["Vector"], tex.inputs["Vector"])
    tex.projection = "BOX"
    tex.projection_blend = BOX_BLEND
    set_tile_size(mapping, tile_size)
    mapping.location = (tex.location.x - 220, tex.location.y)
    coord.location = (mapping.location.x - 220, tex.location.y)
    mapping.label = "Tile size (Nano Banana)"
    mat[MAPPING_KEY] = mapping.name
    mat[TEXCOORD_KEY] = coord.name
    return mapping


def update_tile_size(tile_size: float) -> int:
    """Set the Mapping node of every material the add-on made to `tile_size`. Returns how many."""
    count = 0
    for mat in bpy.data.materials:
        name = _prop(mat, MAPPING_KEY)
        node = mat.node_tree.nodes.get(name) if name and mat.node_tree else None
        if node is not None and node.type == "MAPPING":
            set_tile_size(node, tile_size)
            count += 1
    return count


def _principled_for(tree, base) -> bpy.types.Node | None:
    """The Principled BSDF `base` feeds (through any links), else the tree's first one."""
    seen, todo = set(), [base]
    while todo:
        node = todo.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        for out in node.outputs:
            for link in out.links:
                if link.to_node.type == "BSDF_PRINCIPLED":
                    return link.to_node
                todo.append(link.to_node)
    return next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)


def remove_previous_set(mat: bpy.types.Material) -> None:
    """Remove the nodes of the PBR set made before on `mat`, and their images when nothing
    else uses them (they can be derived again at any time)."""
    tree = mat.node_tree
    images = []
    for name in _prop(mat, PBR_KEY).split("|"):
        node = tree.nodes.get(name) if name else None
        if node is not None:
            if node.type == "TEX_IMAGE" and node.image is not None:
                images.append(node.image)
            tree.nodes.remove(node)
    for img in images:
        if img.users - int(img.use_fake_user) <= 0:
            bpy.data.images.remove(img)
    if _prop(mat, PBR_KEY):
        del mat[PBR_KEY]


def wire_pbr(mat: bpy.types.Material, base_name: str, maps: dict[str, bpy.types.Image]) -> list[bpy.types.Node]:
    """Add the maps next to the base colour node `base_name` and wire them into the
    Principled BSDF it feeds: Roughness -> Roughness; Normal (tangent space) -> Normal Map
    -> Bump's Normal; Height -> Bump -> Principled Normal; AO left as an unconnected,
    labelled image node (multiplying AO into Base Color is not physically based: renderers
    compute their own occlusion). The map nodes share the base node's vector input and
    projection, so they line up with it. With box/Object projection (no UVs) the normal
    map is not connected: tangent space needs UVs; the height bump still works.
    A set made before on this material is replaced. Returns the new nodes."""
    tree = mat.node_tree
    remove_previous_set(mat)
    base = tree.nodes[base_name]
    bsdf = _principled_for(tree, base)
    vec = base.inputs["Vector"].links[0].from_socket if base.inputs["Vector"].is_linked else None
    uv_based = base.projection == "FLAT" and (vec is None or vec.name == "UV")
    x = base.location.x
    y = min(base.location.y - ROW, bsdf.location.y - PRINCIPLED_HEIGHT) if bsdf else base.location.y - ROW
    made: list[bpy.types.Node] = []

    def image_node(kind: str) -> bpy.types.Node:
        nonlocal y
        node = tree.nodes.new("ShaderNodeTexImage")
        node.image = maps[kind]
        node.label = MAP_LABELS[kind]
        node.projection, node.projection_blend = base.projection, base.projection_blend
        node.extension, node.interpolation = base.extension, base.interpolation
        if vec is not None:
            tree.links.new(vec, node.inputs["Vector"])
        node.location = (x, y)
        y -= ROW
        made.append(node)
        return node

    def helper(kind: str, near: bpy.types.Node) -> bpy.types.Node:
        node = tree.nodes.new(kind)
        node.location = (x + 300, near.location.y)
        made.append(node)
        return node

    rough = image_node("roughness") if "roughness" in maps else None
    normal = image_node("normal") if "normal" in maps else None
    height = image_node("height") if "height" in maps else None
    if "ao" in maps:
        image_node("ao")
    normal_map = None
    if normal is not None and uv_based:
        normal_map = helper("ShaderNodeNormalMap", normal)
        normal_map.space = "TANGENT"
        tree.links.new(normal.outputs["Color"], normal_map.inputs["Color"])
    bump = None
    if height is not None:
        bump = helper("ShaderNodeBump", height)
        bump.inputs["Strength"].default_value = BUMP_STRENGTH
        tree.links.new(height.outputs["Color"], bump.inputs["Height"])
        if normal_map is not None:
            tree.links.new(normal_map.outputs["Normal"], bump.inputs["Normal"])
    if bsdf is not None:
        if rough is not None:
            tree.links.new(rough.outputs["Color"], bsdf.inputs["Roughness"])
        final = bump or normal_map
        if final is not None:
            tree.links.new(final.outputs["Normal"], bsdf.inputs["Normal"])
    mat[PBR_KEY] = "|".join(n.name for n in made)
    return made
