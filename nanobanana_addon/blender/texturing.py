"""Texture the model (issue 11): Texture from View and Texture All Around.

The operator (main thread) captures everything when the button is pressed: a Workbench
clay render of each view, each view's matrices (plain tuples, not the live view), the
selected meshes as world-space loop-triangle arrays with UVs and corner normals, every
visible mesh as an occluder, and the texture each object shows today (kept where a view
does not reach). Meshes without UVs first get an "NB_UV" map from Smart UV Project.

The job's worker (`ProjectAndBake.work`, no bpy) sends one request per view (later views
get the first view's answer as a reference, for one consistent style), then projects and
bakes every answer into each mesh's UV map with core/projection.py, and encodes the
texture as PNG. `place()` (main thread) only packs those bytes and wires the material, so
the main thread never runs the per-texel work.

Blender registers the operators' thin declarations (classes/texturing.py); their code is
the plain classes at the end of this module, loaded on the first call (lazy.py), so
enabling the add-on does not load this module.
"""
from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import bpy
from mathutils import Matrix, Vector

from ..core import errors, models
from ..core.request import JobKind
from . import operators, properties
from .numpy_guard import needs_numpy
from .targets import ImageOnly, Target
from .texture_capture_steps import SlicedCapture

if TYPE_CHECKING:
    import numpy as np

    from ..core.pipeline import Outcome
    from ..core.projection import MeshArrays, View
    from ..core.request import GenerationRequest

CAPTURE_SIDE = 1024               # long side of the clay render sent to Gemini
BAKE_SIZES = {"1K": 1024, "2K": 2048, "4K": 4096}
NEW_UV = "NB_UV"
NODE = "NB Texture"               # Image Texture node the bake goes on
UV_NODE = "NB UV"                 # its UV Map node
BAKE_OF = "nanobanana_bake_of"    # Material: the object it was made for
ORIGINAL_MATERIALS = "nanobanana_original_materials"   # Object: slot materials before (JSON)
BAKE_KEY = "nanobanana_bake"      # Image: the object whose bake it is
GEOMETRY = {"MESH", "CURVE", "SURFACE", "FONT", "META"}
DEFAULT_FILL = (0.906, 0.906, 0.906)   # Blender's default surface colour (0.8 linear), sRGB
RING_ELEVATION = math.radians(15.0)    # views around look slightly down: the model sees depth


@dataclass
class LastBake:
    """What the Texture panel reports about the last bake (session only)."""
    text: str = ""
    coverage: dict[str, float] = field(default_factory=dict)
    views: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


LAST = LastBake()


# ---------------------------------------------------------------- selection and views
def selected_meshes(context) -> list[bpy.types.Object]:
    """The selected mesh objects, or the error that says why there are none usable."""
    if context.mode != "OBJECT":
        raise errors.leave_edit_mode()
    selected = list(getattr(context, "selected_objects", None) or ())
    if not selected:
        raise errors.no_mesh_selected()
    meshes = [o for o in selected if o.type == "MESH"]
    if not meshes:
        raise errors.not_a_mesh([o.name for o in selected])
    for obj in meshes:
        if len(obj.data.polygons) == 0:
            raise errors.mesh_has_no_faces(obj.name)
    return meshes


def frame_ratio(settings, width: int, height: int) -> str:
    """The aspect ratio the request will ask for: the setting, or the model's nearest."""
    from ..core import images
    info = models.lookup(properties.model_id(settings))
    ratio = settings.aspect_ratio
    if ratio in ("", "AUTO") or ratio not in info.aspect_ratios:
        ratio = images.nearest_aspect_ratio(width, height, info.aspect_ratios)
    return ratio


def frame_size(ratio: str, side: int = CAPTURE_SIDE) -> tuple[int, int]:
    from ..core import images
    a = images.parse_ratio(ratio)
    return (side, max(1, round(side / a))) if a >= 1 else (max(1, round(side * a)), side)


def _matrix_tuple(m) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in m)


def view_of(camera: bpy.types.Object, depsgraph, width: int, height: int, name: str) -> View:
    """The camera's view as plain values, for a frame of width x height pixels."""
    from ..core.projection import View
    cam = camera.evaluated_get(depsgraph)
    view = cam.matrix_world.normalized().inverted()
    proj = cam.calc_matrix_camera(depsgraph, x=width, y=height, scale_x=1.0, scale_y=1.0)
    return View(_matrix_tuple(view), _matrix_tuple(proj), width, height, name)


def _temp_camera(context, name: str) -> bpy.types.Object:
    data = bpy.data.cameras.new(name)
    obj = bpy.data.objects.new(name, data)
    context.scene.collection.objects.link(obj)
    return obj


def _remove_camera(obj: bpy.types.Object) -> None:
    data = obj.data
    bpy.data.objects.remove(obj)
    if isinstance(data, bpy.types.Camera) and data.users == 0:
        bpy.data.cameras.remove(data)


def camera_from_viewport(context, view_matrix: Matrix, window_matrix: Matrix, perspective: bool,
                         width: int, height: int, clip: tuple[float, float]) -> bpy.types.Object:
    """A temporary camera that sees what a 3D viewport shows (UI: not in camera view)."""
    obj = _temp_camera(context, "NB viewport")
    cam = obj.data
    inv = view_matrix.inverted()
    cam.sensor_fit = "AUTO"
    fx, fy = window_matrix[0][0], window_matrix[1][1]     # 1 / tan(half fov), or 2 / ortho size
    if perspective:
        cam.type = "PERSP"
        cam.angle = 2.0 * math.atan(1.0 / (fx if width >= height else fy))
        obj.matrix_world = inv
        cam.clip_start, cam.clip_end = clip
    else:
        cam.type = "ORTHO"
        cam.ortho_scale = 2.0 / (fx if width >= height else fy)
        back = clip[1] * 0.5            # the viewport sees both ways; a camera only ahead
        obj.matrix_world = inv @ Matrix.Translation((0.0, 0.0, back))
        cam.clip_start, cam.clip_end = 0.001, clip[1]
    return obj


def render_clay(context, camera: bpy.types.Object, width: int, height: int) -> bytes:
    """Workbench render of what `camera` sees at width x height (headless-safe)."""
    from . import capture
    scene = context.scene
    r = scene.render
    saved = (scene.camera, r.resolution_x, r.resolution_y, r.resolution_percentage,
             r.pixel_aspect_x, r.pixel_aspect_y, r.use_border, scene.display.render_aa)
    try:
        scene.camera = camera
        r.resolution_x, r.resolution_y, r.resolution_percentage = width, height, 100
        r.pixel_aspect_x = r.pixel_aspect_y = 1.0
        r.use_border = False
        # No anti-aliasing: several times faster (the press waits for it), and the model
        # only needs the shapes.
        scene.display.render_aa = "OFF"
        return capture.camera_render(context, max_side=max(width, height))
    finally:
        (scene.camera, r.resolution_x, r.resolution_y, r.resolution_percentage,
         r.pixel_aspect_x, r.pixel_aspect_y, r.use_border, scene.display.render_aa) = saved


def around_directions(count: int) -> list[tuple[str, Vector]]:
    """Directions from the selection's centre to each camera: a ring (front, right, back,
    left for 4), then top, then bottom."""
    ring = count if count <= 4 else 4 if count <= 6 else count - 2
    names4 = {0: "front", 90: "right", 180: "back", 270: "left"}
    out = []
    for k in range(ring):
        deg = round(360.0 * k / ring)
        az = math.radians(deg)
        # Front looks along +Y (Blender's Front view), right along -X.
        d = Vector((math.sin(az) * math.cos(RING_ELEVATION), -math.cos(az) * math.cos(RING_ELEVATION),
                    math.sin(RING_ELEVATION)))
        out.append((names4.get(deg, f"{deg}°"), d))
    extra = count - ring
    if extra >= 1:
        out.append(("top", Vector((0.0, 0.0, 1.0))))
    if extra >= 2:
        out.append(("bottom", Vector((0.0, 0.0, -1.0))))
    return out


def _bounds(objects) -> tuple[Vector, float]:
    pts = [o.matrix_world @ Vector(c) for o in objects for c in o.bound_box]
    lo = Vector((min(p.x for p in pts), min(p.y for p in pts), min(p.z for p in pts)))
    hi = Vector((max(p.x for p in pts), max(p.y for p in pts), max(p.z for p in pts)))
    return (lo + hi) * 0.5, max((hi - lo).length * 0.5, 1e-3)


def place_around(camera: bpy.types.Object, center: Vector, radius: float, direction: Vector,
                 width: int, height: int) -> None:
    """An orthographic camera looking at `center` from `direction`, framing the bounding
    sphere with a little room."""
    cam = camera.data
    cam.type = "ORTHO"
    cam.sensor_fit = "AUTO"
    cam.ortho_scale = 2.0 * radius * 1.08 * max(width, height) / min(width, height)
    cam.clip_start, cam.clip_end = 0.01, radius * 8.0
    eye = center + direction.normalized() * radius * 3.0
    up = Vector((0.0, 1.0, 0.0)) if abs(direction.normalized().z) > 0.99 else Vector((0.0, 0.0, 1.0))
    forward = (center - eye).normalized()
    right = forward.cross(up).normalized()
    true_up = right.cross(forward)
    rot = Matrix(((right.x, right.y, right.z), (true_up.x, true_up.y, true_up.z),
                  (-forward.x, -forward.y, -forward.z))).transposed()
    camera.matrix_world = Matrix.Translation(eye) @ rot.to_4x4()


# ---------------------------------------------------------------- meshes as arrays
def ensure_uv_maps(context, objects) -> dict[str, str]:
    """Object name -> the UV map the bake goes into: the one the mesh renders with, or a
    new "NB_UV" from Smart UV Project for a mesh that has none (others keep theirs)."""
    uv_of: dict[str, str] = {}
    need: list[bpy.types.Object] = []
    for obj in objects:
        layers = obj.data.uv_layers
        if len(layers):
            layer = next((u for u in layers if u.active_render), None) or layers.active or layers[0]
            uv_of[obj.name] = layer.name
        elif obj.data not in [o.data for o in need]:
            need.append(obj)
    if not need:
        return uv_of
    view_layer = context.view_layer
    active, selected = view_layer.objects.active, list(context.selected_objects)
    try:
        for obj in selected:
            obj.select_set(False)
        for obj in need:
            obj.data.uv_layers.new(name=NEW_UV)
            obj.select_set(True)
        view_layer.objects.active = need[0]
        bpy.ops.object.mode_set(mode="EDIT")
        bpy.ops.mesh.select_all(action="SELECT")
        bpy.ops.uv.smart_project(angle_limit=math.radians(66.0), island_margin=0.01)
        bpy.ops.object.mode_set(mode="OBJECT")
    finally:
        for obj in need:
            obj.select_set(False)
        for obj in selected:
            obj.select_set(True)
        view_layer.objects.active = active
    for obj in objects:
        uv_of.setdefault(obj.name, NEW_UV)
    return uv_of


def _foreach(coll, attr: str, count: int, width: int, dtype) -> np.ndarray:
    import numpy as np
    buf = np.empty(count * width, dtype)
    coll.foreach_get(attr, buf)
    return buf.reshape(count, width) if width > 1 else buf


def mesh_arrays(obj: bpy.types.Object, depsgraph, uv_name: str | None) -> MeshArrays:
    """The evaluated mesh (modifiers applied) as world-space loop triangles."""
    import numpy as np

    from ..core.projection import MeshArrays
    ev = obj.evaluated_get(depsgraph)
    me = ev.to_mesh()
    try:
        me.calc_loop_triangles()
        tris = len(me.loop_triangles)
        verts = _foreach(me.loop_triangles, "vertices", tris, 3, np.int32)
        loops = _foreach(me.loop_triangles, "loops", tris, 3, np.int32)
        co = _foreach(me.vertices, "co", len(me.vertices), 3, np.float32)
        mw = np.array(ev.matrix_world, np.float64)
        lin = mw[:3, :3]
        pos = (co[verts].astype(np.float64) @ lin.T + mw[:3, 3]).astype(np.float32)
        normals = uvs = None
        if uv_name is not None:
            layer = me.uv_layers.get(uv_name)
            if layer is None:
                raise errors.InvalidInput(f"'{obj.name}' lost its UV map '{uv_name}'.")
            uv = _foreach(layer.uv, "vector", len(me.loops), 2, np.float32)
            uvs = uv[loops]
            cn = _foreach(me.corner_normals, "vector", len(me.loops), 3, np.float32)
            n = cn[loops].astype(np.float64) @ np.linalg.inv(lin)      # inverse transpose
            n /= np.maximum(np.linalg.norm(n, axis=2, keepdims=True), 1e-12)
            normals = n.astype(np.float32)
        if np.linalg.det(lin) < 0:           # mirrored: keep the winding facing outwards
            order = [0, 2, 1]
            pos = pos[:, order]
            normals = normals[:, order] if normals is not None else None
            uvs = uvs[:, order] if uvs is not None else None
        return MeshArrays(obj.name, pos, normals, uvs)
    finally:
        ev.to_mesh_clear()


def occluders(context, depsgraph, skip: set[str], known: list[MeshArrays]) -> list[np.ndarray]:
    """World triangles of everything visible that can hide a surface from a view."""
    out = [m.positions for m in known]
    for obj in context.view_layer.objects:
        if obj.name in skip or obj.type not in GEOMETRY or not obj.visible_get():
            continue
        try:
            arrays = mesh_arrays(obj, depsgraph, None)
        except RuntimeError:          # a curve with nothing to mesh, …
            continue
        if arrays.triangles:
            out.append(arrays.positions)
    return out


def _base_texture(obj: bpy.types.Object, uv_name: str) -> tuple[np.ndarray | None, tuple[float, float, float]]:
    """What unseen texels keep: the image on the material's Base Color when it uses the
    bake's UV map (pixels, top-down, sRGB uint8), else the Base Color itself as a fill."""
    import numpy as np
    mat = obj.active_material
    if mat is None or mat.node_tree is None:
        return None, DEFAULT_FILL
    bsdf = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is None:
        return None, DEFAULT_FILL
    socket = bsdf.inputs["Base Color"]
    if not socket.is_linked:
        return None, tuple(_to_srgb(float(c)) for c in socket.default_value[:3])  # type: ignore[return-value]
    node = socket.links[0].from_node
    if node.type != "TEX_IMAGE" or node.image is None or not node.image.size[0]:
        return None, DEFAULT_FILL
    vec = node.inputs["Vector"]
    node_uv = ""
    if vec.is_linked and vec.links[0].from_node.type == "UVMAP":
        node_uv = vec.links[0].from_node.uv_map
    elif vec.is_linked:
        return None, DEFAULT_FILL          # generated / object coordinates: not our UVs
    layers = obj.data.uv_layers
    render_uv = next((u.name for u in layers if u.active_render), "")
    if (node_uv or render_uv) != uv_name:
        return None, DEFAULT_FILL
    img = node.image
    w, h = img.size
    buf = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(buf)
    px = buf.reshape(h, w, 4)[::-1, :, :3]
    if img.is_float and img.colorspace_settings.name not in ("Non-Color", "Raw"):
        px = np.where(px <= 0.0031308, px * 12.92, 1.055 * np.power(np.clip(px, 0, None), 1 / 2.4) - 0.055)
    return np.ascontiguousarray(np.clip(px * 255.0 + 0.5, 0, 255).astype(np.uint8)), DEFAULT_FILL


def _to_srgb(c: float) -> float:
    c = max(0.0, min(1.0, c))
    return c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


# ---------------------------------------------------------------- the target
@dataclass(frozen=True, eq=False)
class ProjectAndBake(Target):
    """Project each view's answer onto the named meshes, from the views captured when the
    button was pressed, and bake it into their UV maps (worker side), then wire the baked
    texture into each object's material (main thread). One request per view."""
    objects: tuple[str, ...] = ()
    uv_maps: tuple[str, ...] = ()
    views: tuple[View, ...] = ()
    size: int = 2048
    meshes: tuple[MeshArrays, ...] = field(default=(), repr=False)
    occluders: tuple[Any, ...] = field(default=(), repr=False)
    bases: tuple[Any, ...] = field(default=(), repr=False)
    fills: tuple[tuple[float, float, float], ...] = ()
    more: tuple[GenerationRequest, ...] = field(default=(), repr=False)   # views 2..N
    chain: bool = False           # later views get the first answer as a reference
    ratios: tuple[str | None, ...] = ()     # each view's aspect ratio (its frame's)
    around: int = 0               # views all around (0: Texture from View); for recall
    history: Any = field(default=None, repr=False)     # core History the bakes are saved in
    blend_file: str = ""
    # Refine: each view's conversation so far (view k is continued with the instruction).
    refine_turns: tuple[Any, ...] = field(default=(), repr=False)
    out: dict[str, Any] = field(default_factory=dict, repr=False)          # worker -> place

    # -- worker thread: plain values only, no bpy
    def work(self, request: GenerationRequest, cancel: threading.Event,
             run: Callable[[GenerationRequest, threading.Event], Outcome]) -> Outcome:
        from ..core import pixels, projection
        from ..core.pipeline import Outcome
        from ..core.request import InputImage
        done: list[tuple[int, Outcome]] = []
        failures: list[errors.NanoBananaError] = []
        reference: InputImage | None = None
        for k, req in enumerate(self._requests(request)):
            if cancel.is_set():
                raise errors.cancelled()
            self.out["stage"] = f"view {k + 1} of {len(self.views)}"
            if k and self.chain and reference is not None:
                req = replace(req, images=[*req.images, reference])
            try:
                outcome = run(req, cancel)
            except errors.Cancelled:
                raise
            except errors.NanoBananaError as exc:
                if k == 0:
                    raise
                failures.append(exc)
                continue
            done.append((k, outcome))
            self.out.setdefault("views_done", []).append(k)
            self.out.setdefault("turns", {})[k] = outcome.results[0].turns
            if reference is None:
                first = outcome.results[0].images[0]
                reference = InputImage(first.data, first.mime_type, "reference",
                                       "first view, refined" if self.refine_turns else "first view, painted")
        self.out["stage"] = "baking"
        started, cpu = time.perf_counter(), time.process_time()     # CPU: every bake thread
        answers = [(self.views[k], pixels.decode_image(o.results[0].images[0].data)) for k, o in done]
        zbuffers = projection.zbuffers_of([v for v, _img in answers], self.occluders)
        bakes = {}
        for mesh, base, fill in zip(self.meshes, self.bases, self.fills, strict=True):
            if base is not None and base.shape[:2] != (self.size, self.size):
                base = pixels.resize(base, (self.size, self.size), method="BILINEAR")
            res = projection.bake(mesh, answers, self.occluders, self.size, base, fill, zbuffers, cancel)
            rgb, mask = projection.map_threads(pixels.encode_png, [res.rgb, res.uncovered], 2)   # zlib lets go of the GIL
            bakes[mesh.name] = (rgb, mask, res.coverage, res.views_used)
        self.out["bakes"] = bakes
        self.out["bake_seconds"] = time.perf_counter() - started
        self.out["bake_cpu_seconds"] = time.process_time() - cpu
        merged = Outcome(done[0][1].request)
        self._record_bakes(merged, [(self.views[k].name, o) for k, o in done])
        for _k, o in done:
            merged.notes += [n for n in o.notes if n not in merged.notes]
            merged.results += o.results
            merged.entries += o.entries
            merged.failures += o.failures
            merged.warnings += [w for w in o.warnings if w not in merged.warnings]
        merged.failures += failures
        return merged

    def _requests(self, request: GenerationRequest) -> list[GenerationRequest]:
        """One request per view. A Refine (`refine_turns` set) continues every view's own
        conversation with the instruction in `request` (the conversation holds that view's
        capture and its previous image), at that view's frame ratio; a view that had no
        answer before is asked afresh."""
        if not self.refine_turns:
            return [request, *self.more]
        out = []
        for k in range(len(self.views)):
            turns = self.refine_turns[k] if k < len(self.refine_turns) else None
            ratio = self.ratios[k] if k < len(self.ratios) else request.aspect_ratio
            if k == 0:
                out.append(replace(request, aspect_ratio=ratio or request.aspect_ratio))
            elif turns:
                out.append(replace(request, history=list(turns), aspect_ratio=ratio or request.aspect_ratio))
            elif k - 1 < len(self.more):
                out.append(self.more[k - 1])
        return out

    def _record_bakes(self, merged: Outcome, answered: list[tuple[str, Outcome]]) -> None:
        """Each baked texture goes to history as its own entry (after the views' images,
        which pipeline.run saved as they came): the PNG, free, with what "Apply" needs to put
        it back on the object (`texture_bake` in the sidecar) and recall needs."""
        from ..core.history import HistoryWriteError
        from ..core.request import GenerationResult, OutputImage
        if self.history is None:
            return
        view_entries = [e.id for _name, o in answered for e in o.entries if e is not None]
        size_label = next((k for k, v in BAKE_SIZES.items() if v == self.size), f"{self.size}")
        ids = self.out.setdefault("bake_entries", {})
        for name, uv in zip(self.objects, self.uv_maps, strict=True):
            if name not in self.out["bakes"]:
                continue
            png, _mask, cov, used = self.out["bakes"][name]
            result = GenerationResult(model=merged.request.model, cost_usd=0.0,
                                      images=[OutputImage(png, "image/png", self.size, self.size)])
            extra = {"texture_bake": {"object": name, "uv_map": uv, "coverage": round(cov, 4),
                                      "views": list(used), "view_entries": view_entries,
                                      "bake_size": size_label, "texture_views": self.around,
                                      "refined": bool(self.refine_turns)}}
            try:
                entry = self.history.record(merged.request, result=result, blend_file=self.blend_file, extra=extra)
            except HistoryWriteError as exc:
                merged.warnings.append(str(exc))
                continue
            ids[name] = entry.id

    # -- main thread
    def place(self, images: list[bpy.types.Image]) -> str | None:
        from . import apply
        started = time.perf_counter()
        bakes = self.out.get("bakes")
        if not bakes:
            raise errors.bake_missing()
        for img, k in zip(images, self.out.get("views_done", ()), strict=False):
            img.name = f"NB view {self.views[k].name}"
        names: list[str] = []
        coverage: list[float] = []
        used: list[str] = []
        shown = None
        for name, uv in zip(self.objects, self.uv_maps, strict=True):
            obj = bpy.data.objects.get(name)
            if obj is None or obj.type != "MESH" or name not in bakes:
                continue                   # deleted while Gemini worked
            png, mask, cov, views = bakes[name]
            entry = self.out.get("bake_entries", {}).get(name, "")
            tex = apply.packed_image(f"NB Texture {name}", png, entry)     # decoded when first drawn
            tex[BAKE_KEY] = name
            tex["nanobanana_coverage"] = cov
            _replace_mask(name, mask)
            wire_material(obj, tex, uv)
            names.append(name)
            coverage.append(cov)
            used += [v for v in views if v not in used]
            shown = shown or tex
        if shown is not None:
            apply.show_in_image_editors(shown)
        LAST.text = errors.bake_summary(names, coverage, used)
        LAST.coverage = dict(zip(names, coverage, strict=True))
        LAST.views = tuple(used)
        LAST.timings = {"place_s": time.perf_counter() - started,
                        "bake_s": float(self.out.get("bake_seconds", 0.0))}
        self.out.pop("bakes", None)       # the target lives on as "last target": free the PNGs
        return None

    def for_refine(self) -> Target:
        """Refine re-projects: every view is asked again (its own conversation plus the
        instruction, the refined first view as a reference for the others), and the
        answers are projected from the same views and baked again."""
        turns = self.out.get("turns") or {}
        if not turns:
            return ImageOnly()
        return replace(self, out={}, refine_turns=tuple(turns.get(k) for k in range(len(self.views))))


def _replace_mask(name: str, mask_png: bytes) -> None:
    """The "not covered" mask (white = no colour reached it), one per object, replaced."""
    from . import apply
    mask_name = f"NB Texture {name} uncovered"
    old = bpy.data.images.get(mask_name)
    if old is not None and old.get(BAKE_KEY) == name:  # type: ignore[func-returns-value]
        bpy.data.images.remove(old)
    img = apply.packed_image(mask_name, mask_png, colorspace="Non-Color")
    img[BAKE_KEY] = name


def wire_material(obj: bpy.types.Object, img: bpy.types.Image, uv_map: str) -> bpy.types.Material:
    """The object's Nano Banana material with `img` on its texture node, read through
    `uv_map`. The first time, the material is a copy of the object's own (so its other
    settings stay) or a new one, and the original slot materials are kept for revert."""
    from . import apply
    mat = obj.active_material
    ours = mat is not None and mat.get(BAKE_OF) == obj.name  # type: ignore[func-returns-value]
    if mat is not None and ours and mat.node_tree and NODE in mat.node_tree.nodes:
        apply.put_on_node(mat, NODE, img)             # keeps the first image for revert
        uv_node = mat.node_tree.nodes.get(UV_NODE)
        if uv_node is not None:
            uv_node.uv_map = uv_map
        return mat
    if obj.get(ORIGINAL_MATERIALS) is None:  # type: ignore[func-returns-value]  # kept from the first bake
        obj[ORIGINAL_MATERIALS] = json.dumps([s.material.name if s.material else "" for s in obj.material_slots])
    has_bsdf = mat is not None and mat.node_tree is not None and any(
        n.type == "BSDF_PRINCIPLED" for n in mat.node_tree.nodes)
    if mat is not None and has_bsdf:
        mat = mat.copy()
    else:
        mat = bpy.data.materials.new("NB")
        if bpy.app.version < (5, 0, 0):
            mat.use_nodes = True
    mat.name = f"NB Texture {obj.name}"
    mat[BAKE_OF] = obj.name
    tree = mat.node_tree
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is None:
        bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    # A copy of another object's Nano Banana material already has the nodes: reuse them.
    tex = tree.nodes.get(NODE) if tree.nodes.get(NODE) is not None and tree.nodes[NODE].type == "TEX_IMAGE" \
        else tree.nodes.new("ShaderNodeTexImage")
    tex.name, tex.label, tex.image = NODE, "Nano Banana texture", img
    tex.location = (bsdf.location.x - 400, bsdf.location.y)
    uv_node = tree.nodes.get(UV_NODE) or tree.nodes.new("ShaderNodeUVMap")
    uv_node.name, uv_node.uv_map = UV_NODE, uv_map
    uv_node.location = (tex.location.x - 250, tex.location.y)
    tree.links.new(uv_node.outputs["UV"], tex.inputs["Vector"])
    tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    tree.nodes.active = tex
    if len(obj.material_slots) == 0:
        obj.data.materials.append(mat)
    else:
        for slot in obj.material_slots:
            slot.material = mat
    return mat


def revert(obj: bpy.types.Object) -> bool:
    """Put the object's materials from before its first Nano Banana texture back."""
    saved = obj.get(ORIGINAL_MATERIALS)  # type: ignore[func-returns-value]
    if saved is None:
        return False
    names = json.loads(saved)
    if not names:
        obj.data.materials.clear()
    else:
        for slot, name in zip(obj.material_slots, names, strict=False):
            slot.material = bpy.data.materials.get(name) if name else None
    del obj[ORIGINAL_MATERIALS]
    return True


# ---------------------------------------------------------------- history
BAKE_META = "texture_bake"        # history sidecar: what a baked texture's entry was made for


def bake_info(meta: dict) -> dict | None:
    """The `texture_bake` part of a history entry's sidecar (None: not a baked texture)."""
    info = meta.get(BAKE_META)
    return info if isinstance(info, dict) and isinstance(info.get("object"), str) else None


def reapply_bake(context, info: dict, img: bpy.types.Image) -> list[str]:
    """"Apply" of a baked texture from History: back on the Nano Banana material of the
    object it was baked for, read through the UV map it was baked into (its original
    materials are kept for Revert as after a bake). When that object is not in this file,
    the selected meshes get it (the UV map of that name, else the one they render with)."""
    obj = bpy.data.objects.get(info["object"])
    found = [obj] if obj is not None and obj.type == "MESH" else \
        [o for o in getattr(context, "selected_objects", None) or () if o.type == "MESH"]
    done: list[str] = []
    for o in found:
        layers = o.data.uv_layers
        uv = info.get("uv_map") if info.get("uv_map") in layers else \
            next((u.name for u in layers if u.active_render), layers[0].name if len(layers) else None)
        if uv is None:
            continue
        wire_material(o, img, uv)
        done.append(o.name)
    if not done:
        raise errors.bake_target_missing(info["object"])
    if img.get(BAKE_KEY) is None:  # type: ignore[func-returns-value]  # loaded from the history file
        img.name = f"NB Texture {done[0]}"
    img[BAKE_KEY] = done[0]
    return done


def recall_bake_settings(settings, meta: dict) -> None:
    """Recall of a baked texture also brings back its bake size and views all around."""
    info = bake_info(meta)
    if info is None:
        return
    if info.get("bake_size") in BAKE_SIZES:
        settings.bake_size = info["bake_size"]
    views = info.get("texture_views")
    if isinstance(views, int) and 2 <= views <= 8:
        settings.texture_views = views


# ---------------------------------------------------------------- building a job
@dataclass
class Capture:
    view: View
    png: bytes


def _capture_views(context, settings, around: int) -> list[Capture]:
    """Render each view: the active camera / the viewport (around == 0), or `around`
    orthographic views around the selection."""
    scene = context.scene
    depsgraph = context.evaluated_depsgraph_get()
    space = getattr(context, "space_data", None)
    r3d = getattr(space, "region_3d", None) if space is not None and space.type == "VIEW_3D" else None
    if around == 0:
        use_viewport = (not bpy.app.background and r3d is not None and r3d.view_perspective != "CAMERA")
        if use_viewport:
            # The 3D view's main region: a button in the sidebar runs with the sidebar as
            # context.region, whose shape is not the view's.
            region = next((r for r in context.area.regions if r.type == "WINDOW"), context.region)
            width, height = frame_size(frame_ratio(settings, region.width, region.height))
            cam = camera_from_viewport(context, r3d.view_matrix, r3d.window_matrix, r3d.is_perspective,
                                       width, height, (space.clip_start, space.clip_end))
            try:
                depsgraph.update()
                return [Capture(view_of(cam, depsgraph, width, height, "viewport"),
                                render_clay(context, cam, width, height))]
            finally:
                _remove_camera(cam)
        camera = (space.camera if r3d is not None and space.use_local_camera else None) or scene.camera
        if camera is None:
            raise errors.no_texture_camera()
        r = scene.render
        width, height = frame_size(frame_ratio(settings, r.resolution_x * r.pixel_aspect_x,
                                               r.resolution_y * r.pixel_aspect_y))
        return [Capture(view_of(camera, depsgraph, width, height, "camera"),
                        render_clay(context, camera, width, height))]
    meshes = selected_meshes(context)
    center, radius = _bounds(meshes)
    width, height = frame_size(frame_ratio(settings, 1, 1))
    cam = _temp_camera(context, "NB around")
    out = []
    try:
        for name, direction in around_directions(around):
            place_around(cam, center, radius, direction, width, height)
            depsgraph.update()
            out.append(Capture(view_of(cam, depsgraph, width, height, name), render_clay(context, cam, width, height)))
    finally:
        _remove_camera(cam)
    return out


def build(context, around: int = 0) -> tuple[GenerationRequest, ProjectAndBake]:
    """Everything a texturing job needs, captured now (main thread)."""
    # NumPy code and Pillow are imported here (the press already waits for renders), not
    # first in the worker, where the imports hold the GIL for a few hundred ms of UI time.
    from ..core import pixels, projection  # noqa: F401
    from ..core.request import InputImage
    from . import intents
    pixels._pil()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    settings = context.scene.nanobanana
    intents.check_model(properties.model_id(settings))
    objects = selected_meshes(context)
    captures = _capture_views(context, settings, around)
    timings["render_s"] = time.perf_counter() - t0
    requests = [intents.request_from_settings(settings, JobKind.TEXTURE,
                                              [InputImage(c.png, "image/png", "edit", f"{c.view.name} view")],
                                              (c.view.width, c.view.height), variations=1)
                for c in captures]
    t1 = time.perf_counter()
    arrays = press_arrays(context, objects)
    timings["arrays_s"] = time.perf_counter() - t1
    target = bake_target(context, arrays, tuple(c.view for c in captures), requests,
                         BAKE_SIZES.get(settings.bake_size, 2048), around)
    target.out["capture_timings"] = timings
    return requests[0], target


@dataclass(frozen=True)
class PressArrays:
    """What the bake needs of the textured objects, taken as plain arrays at the press."""
    names: tuple[str, ...]
    uv_maps: tuple[str, ...]
    meshes: tuple[MeshArrays, ...]
    occluders: tuple[Any, ...]
    bases: tuple[tuple[Any, tuple[float, float, float]], ...]   # (texture kept, fill colour)


def press_arrays(context, objects) -> PressArrays:
    """UV maps (made when missing), the meshes and their occluders as arrays, the textures
    they keep (main thread; build() and the sliced capture both use it)."""
    uv_of = ensure_uv_maps(context, objects)
    depsgraph = context.evaluated_depsgraph_get()
    meshes = tuple(mesh_arrays(o, depsgraph, uv_of[o.name]) for o in objects)
    return PressArrays(
        names=tuple(o.name for o in objects), uv_maps=tuple(uv_of[o.name] for o in objects),
        meshes=meshes, occluders=tuple(occluders(context, depsgraph, {o.name for o in objects}, list(meshes))),
        bases=tuple(_base_texture(o, uv_of[o.name]) for o in objects))


def bake_target(context, arrays: PressArrays, views: tuple[View, ...],
                requests: list[GenerationRequest], size: int, around: int) -> ProjectAndBake:
    """The ProjectAndBake job for `requests` (one per view, each with its render)."""
    from . import runtime
    info = models.lookup(requests[0].model)
    return ProjectAndBake(
        objects=arrays.names, uv_maps=arrays.uv_maps, views=views, size=size,
        meshes=arrays.meshes, occluders=arrays.occluders,
        bases=tuple(b for b, _f in arrays.bases), fills=tuple(f for _b, f in arrays.bases),
        more=tuple(requests[1:]), chain=len(requests[0].images) + 1 <= info.max_reference_images,
        ratios=tuple(r.aspect_ratio for r in requests), around=around,
        history=runtime.history(context), blend_file=bpy.data.filepath)


# ---------------------------------------------------------------- operators
# What the operators declared in classes/texturing.py do (lazy.py copies each class onto
# its registered one on the first call; `super()` does not work there).
class _TextureSubmit(operators._Submit):
    kind = JobKind.TEXTURE
    execute = needs_numpy(operators._Submit.execute)     # projection and bake are NumPy

    @classmethod
    def poll(cls, context):
        if bpy.app.background:
            return True
        if not any(o.type == "MESH" for o in getattr(context, "selected_objects", None) or ()):
            cls.poll_message_set("Select a mesh object to texture")
            return False
        space = getattr(context, "space_data", None)
        if (space is None or space.type != "VIEW_3D") and context.scene.camera is None:
            cls.poll_message_set("Run this from a 3D View, or add an active camera")
            return False
        return operators._Submit.poll.__func__(cls, context)  # type: ignore[attr-defined]


class TextureFromView(_TextureSubmit):
    """nanobanana.texture_from_view: the viewport, or the active camera."""

    @classmethod
    def build(cls, context):
        return build(context)


class TextureObject(SlicedCapture, _TextureSubmit):
    """nanobanana.texture_object: views all around."""
    # In a window, invoke captures one view per timer event (texture_capture_steps.py).
    invoke = needs_numpy(SlicedCapture.invoke)

    @classmethod
    def around(cls, context) -> int:
        return max(2, min(8, context.scene.nanobanana.texture_views))

    @classmethod
    def build(cls, context):
        return build(context, around=cls.around(context))


class RevertTextureBake:
    """nanobanana.revert_texture_bake: the materials from before the first bake."""

    @classmethod
    def poll(cls, context):
        if any(ORIGINAL_MATERIALS in o.keys() for o in getattr(context, "selected_objects", None) or ()):
            return True
        cls.poll_message_set("The selection has no Nano Banana texture")
        return False

    def execute(self, context):
        done = [o.name for o in context.selected_objects if revert(o)]
        if not done:
            self.report({"ERROR"}, errors.nothing_to_revert())
            return {"CANCELLED"}
        self.report({"INFO"}, f"Restored the materials of {', '.join(done)}")
        return {"FINISHED"}


def draw_panel(layout, context) -> None:
    """The Texture section of the 3D View sidebar."""
    from . import runtime, ui_text
    s = context.scene.nanobanana
    col = layout.column(align=True)
    col.scale_y = 1.2
    col.operator("nanobanana.texture_from_view", icon="VIEW_CAMERA")
    col.operator("nanobanana.texture_object", icon="MESH_CUBE")
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    col.prop(s, "texture_views", text="Views")          # "Views All Around" is cut at the default width
    col.prop(s, "bake_size")
    info = models.lookup(properties.model_id(s))
    one = models.estimate_cost(properties.model_id(s), s.image_size, 1, len(s.references))
    if one is not None:
        approx = "about " if info.price_estimated else ""
        text = (f"Cost: {approx}${one:.3f} from view, {approx}${one * s.texture_views:.3f} "
                f"all around ({s.texture_views} views)")
        for line in ui_text.wrap(text, ui_text.available(context, 70)):
            layout.label(text=line)
    for job in runtime.STATE.jobs.running():
        target = job.target
        if isinstance(target, ProjectAndBake) and target.out.get("stage"):
            layout.label(text=ui_text.shorten(f"Texturing: {target.out['stage']}", ui_text.available(context)),
                         icon="SORTTIME")
    if LAST.text:
        box = layout.box()
        for i, line in enumerate(ui_text.wrap(LAST.text, ui_text.available(context))):
            box.label(text=line, icon="CHECKMARK" if i == 0 else "BLANK1")
    layout.operator("nanobanana.revert_texture_bake", icon="LOOP_BACK")

