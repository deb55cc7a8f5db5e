"""Result bytes -> Blender data, on the main thread: a packed Image (no temp file, no
pixel loops), a new material on the selection, the same texture node (keeping the
original for one-click revert), open Image Editors. Nothing is left behind on failure."""
from __future__ import annotations

import bpy

from ..core import errors

ENTRY_KEY = "nanobanana_entry"        # Image custom property: history entry id
ORIGINAL_KEY = "nanobanana_original"  # Node custom property: original image name


REF_KEY = "nanobanana_ref"            # ID custom property: a stable reference for results


def stable_ref(id_block) -> str:
    """A reference to an object or material that survives renames (stored on it)."""
    ref = id_block.get(REF_KEY)
    if not ref:
        import uuid
        try:
            ref = id_block[REF_KEY] = uuid.uuid4().hex[:12]
        except (AttributeError, TypeError, RuntimeError):    # linked data: read-only
            return "name:" + id_block.name
    return str(ref)


def resolve(collection, ref: str):
    """The datablock carrying `ref`, or None when it was deleted."""
    if ref.startswith("name:"):
        return collection.get(ref[5:])
    return next((d for d in collection if d.get(REF_KEY) == ref), None)


def name_from_prompt(prompt: str, limit: int = 40) -> str:
    prompt = errors.redact(prompt)      # image names are saved in the .blend
    words = "".join(c if c.isalnum() or c in " -_" else " " for c in prompt).split()
    base = " ".join(words)[:limit].strip() or "Nano Banana"
    return f"NB {base}"


def packed_image(name: str, data: bytes, entry_id: str = "", colorspace: str | None = None,
                 *, decode_check: bool = False) -> bpy.types.Image:
    """A new Image that holds `data` packed in the .blend. Blender decodes it when it is
    first drawn; `decode_check` forces that now (for files not checked by a worker)."""
    img = bpy.data.images.new(name, 8, 8)
    try:
        img.pack(data=data, data_len=len(data))  # type: ignore[arg-type]  # stub says str; bytes is right
        img.source = "FILE"
        if decode_check and img.size[0] == 0:
            raise errors.malformed("Blender could not decode the image")
    except Exception:
        bpy.data.images.remove(img)
        raise
    if colorspace:
        try:
            img.colorspace_settings.name = colorspace
        except TypeError:
            pass
    if entry_id:
        img[ENTRY_KEY] = entry_id
    img.use_fake_user = True    # a paid result stays in the .blend even while unused
    return img


def new_material(name: str, img: bpy.types.Image) -> bpy.types.Material:
    mat = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    tree = mat.node_tree
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is None:
        bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    tex = tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.location = (bsdf.location.x - 400, bsdf.location.y)
    tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    tree.nodes.active = tex
    return mat


def assign_material(mat: bpy.types.Material, objects) -> int:
    count = 0
    for obj in objects:
        if obj.type not in {"MESH", "CURVE", "SURFACE", "META", "FONT"} or obj.data is None:
            continue
        if len(obj.material_slots) == 0:
            obj.data.materials.append(mat)
        else:
            obj.active_material = mat
        count += 1
    return count


def put_on_node(mat: bpy.types.Material, node_name: str, img: bpy.types.Image) -> bpy.types.Image:
    """Replace the node's image, keeping the first original for revert. Returns it."""
    node = mat.node_tree.nodes[node_name]
    original = node.image
    if ORIGINAL_KEY not in node.keys() and original is not None:  # type: ignore[operator]
        node[ORIGINAL_KEY] = original.name
        original.use_fake_user = True     # kept in the file even when unused
    if original is not None:        # the colour space comes from the target (sRGB or data)
        img.alpha_mode = original.alpha_mode
    node.image = img
    return original


def revert_node(mat: bpy.types.Material, node_name: str) -> bpy.types.Image | None:
    node = mat.node_tree.nodes.get(node_name)
    if node is None or ORIGINAL_KEY not in node.keys():
        return None
    original = bpy.data.images.get(node[ORIGINAL_KEY])
    if original is None:
        return None
    node.image = original
    del node[ORIGINAL_KEY]
    return original


def show_in_image_editors(img: bpy.types.Image) -> int:
    shown = 0
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type != "IMAGE_EDITOR":
                continue
            space = area.spaces.active
            if getattr(space, "use_image_pin", False):
                continue
            space.image = img
            area.tag_redraw()
            shown += 1
    return shown
