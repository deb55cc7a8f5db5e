"""Project generated images onto meshes and bake them into UV space: pure NumPy, no bpy.

Runs on a worker thread, on arrays the Blender layer copied out on the main thread when
the button was pressed (world-space triangles, corner normals and UVs of each mesh, the
view and projection matrices of each captured view). Nothing here knows about Blender.

How a texel gets its colour (`bake`):
1. UV rasterisation: each texel centre of the S x S texture is assigned the loop triangle
   whose UV triangle covers it (`_owners`); barycentric weights give the texel's world
   position and (smooth) normal.
2. Per view: the texel is projected with the captured matrices. It is *seen* when it is
   in the frame, in front of the camera, on a face turned towards the camera (geometric
   normal), and not behind anything: a depth buffer of every occluder triangle (`zbuffer`,
   rasterised here too) must not hold anything clearly nearer at that pixel.
3. Weights: `fade` (0 below a grazing cosine, 1 from a comfortable one) decides how much
   of the generated colour a texel gets; `cos ** SHARPNESS` decides how several views are
   mixed, so the view that sees a surface most squarely dominates and seams stay narrow.
4. Compose: colour = mix of the views, blended over the previous texture (or a fill
   colour) by the strongest fade; texels outside every UV island are filled from their
   neighbours (pull-push), so mipmaps and filtering do not show seams.

Array conventions follow pixels.py: images are top-down (row 0 is the top row), uint8 or
float 0..1. UV (0, 0) is the bottom-left of the texture, as in Blender.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

CHUNK = 1 << 20            # candidate pixels per rasterisation step (bounded memory)
WORKERS = 4                # threads for the texel chunks and the views' depth buffers (max)
FADE = (0.08, 0.3)         # cosine where a surface starts to receive colour, and gets all of it
SHARPNESS = 4.0            # view mixing weight = cos ** SHARPNESS
DEPTH_TOLERANCE = 0.01     # relative: a texel is hidden when something is >1 % nearer
ZBUFFER_SIDE = 1024        # long side of the visibility buffer, in pixels
EPS = 1e-7

Matrix4 = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class View:
    """One captured view: world -> camera (camera looks down -Z) and camera -> clip (OpenGL)
    4x4 row-major matrices, as Blender's `Matrix` rows, and the frame size in pixels the
    projection was made for (only its aspect matters here)."""
    view_matrix: Matrix4
    projection_matrix: Matrix4
    width: int
    height: int
    name: str = ""

    @property
    def orthographic(self) -> bool:
        return abs(self.projection_matrix[3][3] - 1.0) < 1e-9

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.view_matrix, np.float64), np.asarray(self.projection_matrix, np.float64)

    @property
    def near(self) -> float:
        """Distance of the near clipping plane in front of the camera (what the camera
        renders starts there), from the OpenGL projection matrix."""
        p = self.projection_matrix
        if self.orthographic:            # p22 = -2 / (f - n), p23 = -(f + n) / (f - n)
            return (p[2][3] + 1.0) / p[2][2] if abs(p[2][2]) > EPS else 0.0
        return p[2][3] / (p[2][2] - 1.0) if abs(p[2][2] - 1.0) > EPS else EPS   # p23 = -2fn / (f - n)


@dataclass(frozen=True, eq=False)
class MeshArrays:
    """One mesh as loop triangles in world space: corners (T, 3, 3), corner normals
    (T, 3, 3) and UVs (T, 3, 2). `uvs` may be None for an occluder-only mesh."""
    name: str
    positions: np.ndarray
    normals: np.ndarray | None = None
    uvs: np.ndarray | None = None

    @property
    def triangles(self) -> int:
        return int(self.positions.shape[0])


@dataclass(eq=False)
class BakeResult:
    name: str
    rgb: np.ndarray                   # S x S x 3 uint8, top-down
    uncovered: np.ndarray             # S x S uint8: 255 where the surface got no colour
    coverage: float                   # share of the surface area that received colour
    views_used: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ rasterisation
def rasterize(tris: np.ndarray, width: int, height: int, chunk: int = CHUNK,
              weights: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Pixels whose centres lie in 2D triangles `tris` (T, 3, 2), in pixel units (x right,
    y down, pixel (i, j) centred at (i + .5, j + .5)). Yields (flat pixel index, triangle
    index, barycentric weights (n, 3) or None without `weights`) in chunks; a pixel on a
    shared edge may appear twice."""
    tris = np.asarray(tris, np.float64)
    if tris.shape[0] == 0:
        return
    lo, hi = tris.min(axis=1), tris.max(axis=1)
    x0 = np.clip(np.ceil(lo[:, 0] - 0.5), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(hi[:, 0] - 0.5) + 1, 0, width).astype(np.int64)
    y0 = np.clip(np.ceil(lo[:, 1] - 0.5), 0, height).astype(np.int64)
    y1 = np.clip(np.floor(hi[:, 1] - 0.5) + 1, 0, height).astype(np.int64)
    a = tris[:, 0]
    e1, e2 = tris[:, 1] - a, tris[:, 2] - a
    det = e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1]
    w, h = np.maximum(x1 - x0, 0), np.maximum(y1 - y0, 0)
    count = w * h
    count[np.abs(det) < 1e-12] = 0                       # degenerate: covers nothing
    keep = np.flatnonzero(count)
    if keep.size == 0:
        return
    starts = np.concatenate([[0], np.cumsum(count[keep])])
    total = int(starts[-1])
    for begin in range(0, total, chunk):
        end = min(total, begin + chunk)
        # The triangles this range of candidates belongs to, and how many of each it holds
        # (np.repeat: linear, where a search per candidate was not).
        k0 = int(np.searchsorted(starts, begin, side="right")) - 1
        k1 = int(np.searchsorted(starts, end - 1, side="right")) - 1
        span = np.minimum(starts[k0 + 1:k1 + 2], end) - np.maximum(starts[k0:k1 + 1], begin)
        k = np.repeat(np.arange(k0, k1 + 1), span)
        t = keep[k]
        local = np.arange(begin, end, dtype=np.int64) - starts[k]
        row, col = np.divmod(local, w[t])
        px = x0[t] + col
        py = y0[t] + row
        cx, cy = px + 0.5 - a[t, 0], py + 0.5 - a[t, 1]
        d = det[t]
        b1 = (cx * e2[t, 1] - e2[t, 0] * cy) / d
        b2 = (e1[t, 0] * cy - cx * e1[t, 1]) / d
        b0 = 1.0 - b1 - b2
        inside = (b0 >= -1e-9) & (b1 >= -1e-9) & (b2 >= -1e-9)
        yield (py[inside] * width + px[inside], t[inside],
               np.stack([b0[inside], b1[inside], b2[inside]], axis=1) if weights else None)


def _project(view: View, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(NDC xy (n, 2), linear depth in front of the camera (n,), clip w (n,))."""
    v, p = view.arrays()
    m = p @ v
    pts = np.asarray(points, np.float64)
    clip = pts @ m[:, :3].T + m[:, 3]
    depth = -(pts @ v[2, :3] + v[2, 3])
    w = clip[:, 3]
    safe = np.where(np.abs(w) < EPS, EPS, w)
    return clip[:, :2] / safe[:, None], depth, w


def frame_size(view: View, long_side: int = ZBUFFER_SIDE) -> tuple[int, int]:
    scale = long_side / max(view.width, view.height)
    return max(1, round(view.width * scale)), max(1, round(view.height * scale))


def _ndc_to_pixels(ndc: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    return (ndc[:, 0] + 1.0) * 0.5 * width, (1.0 - ndc[:, 1]) * 0.5 * height


def clip_near(tris: np.ndarray, depth: np.ndarray, near: float) -> np.ndarray:
    """World triangles (T, 3, 3) cut to the part at `depth` >= `near` in front of the camera
    (`depth` (T, 3): each corner's distance along the view direction). A triangle wholly
    in front is kept as it is, one wholly behind is dropped, one crossing the plane becomes
    the triangle or the quad (two triangles) in front of it: the part the camera renders."""
    inside = depth >= near
    count = inside.sum(axis=1)
    parts = [tris[count == 3]]
    for n_in in (1, 2):
        sel = np.flatnonzero(count == n_in)
        if sel.size == 0:
            continue
        t, d, ins = tris[sel], depth[sel], inside[sel]
        # Rotate the corners so the odd one out (the lone inside / outside corner) is first;
        # a rotation keeps the winding.
        odd = np.argmax(ins if n_in == 1 else ~ins, axis=1)
        order = (odd[:, None] + np.arange(3)[None, :]) % 3
        t = np.take_along_axis(t, order[:, :, None], axis=1)
        d = np.take_along_axis(d, order, axis=1)
        a, b, c = t[:, 0], t[:, 1], t[:, 2]
        ab = ((d[:, 0] - near) / (d[:, 0] - d[:, 1]))[:, None]
        ac = ((d[:, 0] - near) / (d[:, 0] - d[:, 2]))[:, None]
        pab, pac = a + (b - a) * ab, a + (c - a) * ac        # where edges a-b, a-c meet the plane
        if n_in == 1:                                         # a is in front: one triangle
            parts.append(np.stack([a, pab, pac], axis=1))
        else:                                                 # a is behind: the quad b, c, pac, pab
            parts.append(np.stack([pab, b, c], axis=1))
            parts.append(np.stack([pab, c, pac], axis=1))
    return np.concatenate(parts).astype(tris.dtype, copy=False)


def zbuffer(view: View, occluders: Sequence[np.ndarray], size: tuple[int, int] | None = None) -> np.ndarray:
    """Nearest linear depth per pixel (H x W float32, inf where nothing is) of the world
    triangles in `occluders` (each (T, 3, 3)), seen from `view`, then eroded by one pixel
    (3 x 3 minimum) so a hidden texel next to an occluder's outline stays hidden. Triangles
    are first cut at the camera's near plane: a wall or floor that reaches behind the
    camera still hides what is behind its visible part."""
    width, height = size or frame_size(view)
    zb = np.full(width * height, np.inf, np.float32)
    v, _p = view.arrays()
    near = max(view.near, EPS) if not view.orthographic else view.near
    for tris in occluders:
        if tris.shape[0] == 0:
            continue
        tris = np.asarray(tris, np.float64)
        depth = -(tris @ v[2, :3] + v[2, 3])                   # (T, 3) along the view direction
        tris = clip_near(tris, depth, near)
        if tris.shape[0] == 0:
            continue
        ndc, depth, _w = _project(view, tris.reshape(-1, 3))
        ndc, depth = ndc.reshape(-1, 3, 2), depth.reshape(-1, 3)
        # Off-screen triangles cost nothing: the rasteriser clips their boxes to the frame.
        sx, sy = _ndc_to_pixels(ndc.reshape(-1, 2), width, height)
        screen = np.stack([sx, sy], axis=1).reshape(-1, 3, 2)
        key = depth if view.orthographic else 1.0 / np.maximum(depth, EPS)   # affine in screen space
        for pix, t, bary in rasterize(screen, width, height):
            assert bary is not None
            k = np.einsum("ij,ij->i", bary, key[t])
            d = k if view.orthographic else 1.0 / np.maximum(k, EPS)
            np.minimum.at(zb, pix, d.astype(np.float32))
    zb2 = zb.reshape(height, width)
    padded = np.pad(zb2, 1, constant_values=np.inf)
    out = zb2.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            np.minimum(out, padded[dy:dy + height, dx:dx + width], out=out)
    return out


def zbuffers_of(views: Sequence[View], occluders: Sequence[np.ndarray]) -> list[np.ndarray]:
    """zbuffer() of each view, the views on several threads at once."""
    return map_threads(lambda v: zbuffer(v, occluders), list(views), max(1, min(WORKERS, os.cpu_count() or 1)))


# ------------------------------------------------------------------ per-view weights
def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def facing_triangles(view: View, positions: np.ndarray, face_normals: np.ndarray) -> np.ndarray:
    """(T,) bool: triangles turned towards the camera. Exact per triangle: every point of a
    plane sees a point (or direction) on the same side."""
    v, _p = view.arrays()
    rot = v[:3, :3]
    if view.orthographic:
        return face_normals @ rot[2].astype(np.float32) > 0.0
    eye = (-rot.T @ v[:3, 3]).astype(np.float32)
    return np.einsum("ij,ij->i", face_normals, eye - np.asarray(positions[:, 0], np.float32)) > 0.0


def view_weights(view: View, zb: np.ndarray, points: np.ndarray, normals: np.ndarray,
                 facing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The surface points `view` sees: (their indices, NDC xy, fade 0..1, mix weight).
    Not seen: on a face turned away (`facing` False), outside the frame, nearer than the
    camera's near plane, occluded (depth buffer `zb`), or so grazing that the fade is 0. Float32, and
    each test runs only on the points that passed the cheaper ones before it."""
    v, p = view.arrays()
    rot = v[:3, :3]
    towards = rot[2].astype(np.float32)                                  # camera +Z in world
    eye = (-rot.T @ v[:3, 3]).astype(np.float32)
    idx = np.flatnonzero(facing)
    pts = np.asarray(points, np.float32)[idx]
    m = (p @ v).astype(np.float32)
    clip = pts @ m[:, :3].T + m[:, 3]
    near = np.float32(view.near * (1.0 - 1e-6))        # nearer than that, the camera renders nothing
    if view.orthographic:
        depth = -(pts @ towards + np.float32(v[2, 3]))
        ndc = clip[:, :2]
        ok = (np.abs(ndc).max(axis=1) <= 1.0) & (depth >= near)
    else:
        depth = clip[:, 3]                                               # w = -z for a perspective matrix
        ok = depth > max(near, np.float32(EPS))
        ndc = clip[:, :2] / np.where(ok, depth, 1.0)[:, None]
        ok &= np.abs(ndc).max(axis=1) <= 1.0
    keep = np.flatnonzero(ok)
    idx, ndc, depth = idx[keep], ndc[keep], depth[keep]
    zh, zw = zb.shape
    ix = np.clip(((ndc[:, 0] + 1.0) * (0.5 * zw)).astype(np.int64), 0, zw - 1)
    iy = np.clip(((1.0 - ndc[:, 1]) * (0.5 * zh)).astype(np.int64), 0, zh - 1)
    nearest = zb[iy, ix]
    keep = np.flatnonzero(depth <= nearest * np.float32(1.0 + DEPTH_TOLERANCE) + np.float32(1e-5))
    idx, ndc = idx[keep], ndc[keep]
    if view.orthographic:
        cos = normals[idx] @ towards
    else:
        to_cam = eye - np.asarray(points, np.float32)[idx]
        to_cam /= np.maximum(np.linalg.norm(to_cam, axis=1, keepdims=True), np.float32(EPS))
        cos = np.einsum("ij,ij->i", normals[idx], to_cam)
    fade = _smoothstep(FADE[0], FADE[1], cos).astype(np.float32)
    keep = np.flatnonzero(fade > 0.0)
    cos = cos[keep]
    return idx[keep], ndc[keep], fade[keep], (cos * cos) ** np.float32(SHARPNESS / 2)


def sample(image: np.ndarray, ndc: np.ndarray) -> np.ndarray:
    """Bilinear colour (n, C) float32 0..1 of `image` (top-down, uint8 or float) at NDC
    points; the image spans the whole frame (-1..1 on both axes)."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    h, w, c = img.shape
    flat = img.reshape(h * w, c)
    x = np.clip((ndc[:, 0] + 1.0) * (0.5 * w) - 0.5, 0, w - 1).astype(np.float32)
    y = np.clip((1.0 - ndc[:, 1]) * (0.5 * h) - 0.5, 0, h - 1).astype(np.float32)
    x0 = np.minimum(x.astype(np.int64), max(w - 2, 0))
    y0 = np.minimum(y.astype(np.int64), max(h - 2, 0))
    dx, dy = min(1, w - 1), min(1, h - 1) * w
    # float32 throughout (x - x0 would be float64), rows gathered with take(): several
    # times faster than fancy indexing at millions of points.
    fx, fy = (x - x0.astype(np.float32))[:, None], (y - y0.astype(np.float32))[:, None]
    i = y0 * w + x0
    if flat.dtype != np.float32:
        flat = flat.astype(np.float32) * np.float32(1 / 255) if flat.dtype == np.uint8 else flat.astype(np.float32)
    a, b = flat.take(i, axis=0), flat.take(i + dx, axis=0)
    top = a + (b - a) * fx
    a, b = flat.take(i + dy, axis=0), flat.take(i + dy + dx, axis=0)
    bottom = a + (b - a) * fx
    return top + (bottom - top) * fy


# ------------------------------------------------------------------ UV space
def _face_normals(pos: np.ndarray) -> np.ndarray:
    n = np.cross(pos[:, 1] - pos[:, 0], pos[:, 2] - pos[:, 0])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), EPS)


def uv_pixels(uvs: np.ndarray, size: int) -> np.ndarray:
    """UV triangles (T, 3, 2) -> texture pixel coordinates (x right, y down)."""
    uv = np.asarray(uvs, np.float64)
    return np.stack([uv[..., 0] * size, (1.0 - uv[..., 1]) * size], axis=-1)


def owners(uvs: np.ndarray, size: int) -> np.ndarray:
    """Flat S*S int32 map: the triangle whose UV covers each texel centre, -1 for none
    (overlapping UVs: the last triangle wins)."""
    tri = uv_pixels(uvs, size)
    parts = max(1, min(WORKERS, os.cpu_count() or 1, tri.shape[0] // 1024))

    def part(bounds: tuple[int, int]) -> np.ndarray:
        own = np.full(size * size, -1, np.int32)
        for pix, t, _none in rasterize(tri[bounds[0]:bounds[1]], size, size, weights=False):
            own[pix] = t + bounds[0]
        return own

    # Consecutive runs of triangles on several threads; a later run wins where they overlap.
    cuts = np.linspace(0, tri.shape[0], parts + 1).astype(int)
    maps = map_threads(part, list(zip(cuts[:-1], cuts[1:], strict=True)), parts)
    own = maps[0]
    for later in maps[1:]:
        np.copyto(own, later, where=later >= 0)
    return own


def _affine_maps(tri_px: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """(T, 3, 3) float32 maps M with M @ (x, y, 1) = the corner value interpolated at
    texture pixel (x, y): corners (T, 3, 3) are per-corner vectors (positions, normals)."""
    q = np.ones((tri_px.shape[0], 3, 3))
    q[:, 0, :], q[:, 1, :] = tri_px[..., 0], tri_px[..., 1]
    det = np.linalg.det(q)
    q[np.abs(det) < 1e-12] = np.eye(3)         # degenerate UVs own no texel anyway
    return (np.swapaxes(np.asarray(corners, np.float64), 1, 2) @ np.linalg.inv(q)).astype(np.float32)


def _apply_maps(maps: np.ndarray, pix: np.ndarray, t: np.ndarray, size: int) -> np.ndarray:
    x = ((pix % size) + 0.5).astype(np.float32)[:, None]
    y = ((pix // size) + 0.5).astype(np.float32)[:, None]
    m = maps[t]
    return m[:, :, 0] * x + m[:, :, 1] * y + m[:, :, 2]


def _area_ratio(mesh: MeshArrays, tri_px: np.ndarray) -> np.ndarray:
    """Surface area each texel of a triangle stands for (coverage is per area, not texel)."""
    p = mesh.positions.astype(np.float64)
    world = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    e1, e2 = tri_px[:, 1] - tri_px[:, 0], tri_px[:, 2] - tri_px[:, 0]
    texels = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1])
    return np.where(texels > 1e-12, world / np.maximum(texels, 1e-12), 0.0)


def fill_holes(rgb: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Pull-push: every unknown pixel takes the average of the nearest known ones, found at
    the coarsest pyramid level that reaches them. Known pixels are unchanged; the result
    has `rgb`'s dtype. The full-size image is never copied to float (a 4K texture is
    filled with about a quarter of its size in extra memory)."""
    h, w = known.shape
    chans = rgb.shape[2]
    if known.all() or not known.any():
        return rgb.copy()
    ph, pw = h % 2, w % 2
    k = np.pad(known, ((0, ph), (0, pw))).astype(np.float32)
    wt = k[0::2, 0::2] + k[1::2, 0::2] + k[0::2, 1::2] + k[1::2, 1::2]
    c = np.empty(wt.shape + (chans,), np.float32)
    for ch in range(chans):                       # level 1, one channel at a time
        plane = np.pad(rgb[..., ch], ((0, ph), (0, pw))).astype(np.float32) * k
        c[..., ch] = plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    while True:
        levels.append((c, wt))
        if c.shape[0] <= 1 and c.shape[1] <= 1:
            break
        ph2, pw2 = c.shape[0] % 2, c.shape[1] % 2
        if ph2 or pw2:
            c = np.pad(c, ((0, ph2), (0, pw2), (0, 0)))
            wt = np.pad(wt, ((0, ph2), (0, pw2)))
        c = c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]
        wt = wt[0::2, 0::2] + wt[1::2, 0::2] + wt[0::2, 1::2] + wt[1::2, 1::2]
    filled = levels[-1][0] / np.maximum(levels[-1][1], 1e-12)[..., None]
    for c, wt in reversed(levels[:-1]):
        hh, ww = filled.shape[:2]
        up = np.broadcast_to(filled[:, None, :, None, :], (hh, 2, ww, 2, chans))
        up = up.reshape(2 * hh, 2 * ww, chans)[:c.shape[0], :c.shape[1]]
        filled = np.where(wt[..., None] > 0, c / np.maximum(wt, 1e-12)[..., None], up)
    out = rgb.copy()
    miss = np.flatnonzero(~known)
    values = filled[(miss // w) // 2, (miss % w) // 2]
    if out.dtype == np.uint8:
        values = np.clip(values + 0.5, 0, 255)
    out.reshape(-1, chans)[miss] = values.astype(out.dtype)
    return out


def _to_u8(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a if a.dtype == np.uint8 else np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _float_rgb(image: np.ndarray) -> np.ndarray:
    """An answer as H x W x 3 float32 0..1 (grey repeated, alpha dropped)."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    img = img[..., :3] if img.shape[2] >= 3 else np.repeat(img[..., :1], 3, axis=2)
    return img.astype(np.float32) * np.float32(1 / 255) if img.dtype == np.uint8 else img.astype(np.float32)


def map_threads(fn, items: list, workers: int) -> list:
    """fn over items, on `workers` threads when there is more than one (results in order;
    the first exception is raised after the others stop being started)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nanobanana-bake") as pool:
        futures = [pool.submit(fn, x) for x in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def bake(mesh: MeshArrays, views: Sequence[tuple[View, np.ndarray]], occluders: Sequence[np.ndarray],
         size: int, base: np.ndarray | None = None, fill: tuple[float, float, float] = (0.5, 0.5, 0.5),
         zbuffers: Sequence[np.ndarray] | None = None, cancel=None) -> BakeResult:
    """Bake `views` (each a View and its generated image, top-down) onto `mesh` into an
    S x S texture. `base` (S x S x 3, top-down, 0..1 or uint8) is what unseen texels keep;
    without it they get `fill`. `occluders` are every triangle that can hide the mesh
    (the mesh itself included); `zbuffers` may be given precomputed, one per view.
    Texels are done in chunks, every view at once, so memory stays a few bytes a texel."""
    import time
    if mesh.uvs is None:
        raise ValueError(f"{mesh.name} has no UVs")
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    n = size * size
    if base is None:
        out = np.empty((n, 3), np.uint8)
        out[:] = _to_u8(np.asarray(fill, np.float32))
    else:
        out = _to_u8(base).reshape(n, 3).copy()
    zbs = list(zbuffers) if zbuffers is not None else zbuffers_of([v for v, _img in views], occluders)
    times["zbuffer"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    tri_px = uv_pixels(mesh.uvs, size)
    own = owners(mesh.uvs, size)
    covered = np.flatnonzero(own >= 0).astype(np.int32)
    times["uv_raster"] = time.perf_counter() - t1
    face_n = _face_normals(mesh.positions.astype(np.float64)).astype(np.float32)
    ratio = _area_ratio(mesh, tri_px).astype(np.float32)
    pos_maps = _affine_maps(tri_px, mesh.positions)
    nrm_maps = _affine_maps(tri_px, mesh.normals if mesh.normals is not None
                            else np.repeat(face_n[:, None, :], 3, axis=1))
    facing = [facing_triangles(view, mesh.positions, face_n) for view, _img in views]
    uncovered = np.zeros(n, np.uint8)
    used = [False] * len(views)
    area_all = area_seen = 0.0
    t2 = time.perf_counter()
    # Colour lookups gather float32 rows: each answer is converted once, not per chunk.
    flat_views = [(view, _float_rgb(image)) for view, image in views]

    def one_chunk(pix: np.ndarray) -> tuple[float, float]:
        """Colour the texels `pix` (disjoint between chunks, so chunks may run at once)."""
        if cancel is not None and cancel.is_set():
            from . import errors
            raise errors.cancelled()
        t = own[pix]
        pos = _apply_maps(pos_maps, pix, t, size)
        nrm = _apply_maps(nrm_maps, pix, t, size)
        nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), np.float32(EPS))
        csum = np.zeros((pix.size, 3), np.float32)
        wsum = np.zeros(pix.size, np.float32)
        alpha = np.zeros(pix.size, np.float32)
        for k, ((view, image), zb) in enumerate(zip(flat_views, zbs, strict=True)):
            hit, ndc, fade, mix = view_weights(view, zb, pos, nrm, facing[k][t])
            if hit.size == 0:
                continue
            used[k] = True
            csum[hit] += sample(image, ndc) * mix[:, None]
            wsum[hit] += mix
            alpha[hit] = np.maximum(alpha[hit], fade)
        got = np.flatnonzero(alpha > 0)
        a = alpha[got, None]
        before = out[pix[got]].astype(np.float32) * np.float32(1 / 255)
        mixed = csum[got] / np.maximum(wsum[got], 1e-12)[:, None]
        out[pix[got]] = np.clip((a * mixed + (1 - a) * before) * 255 + 0.5, 0, 255).astype(np.uint8)
        uncovered[pix] = np.clip((1 - alpha) * 255 + 0.5, 0, 255).astype(np.uint8)
        area = ratio[t]
        return float(area.sum()), float((alpha * area).sum())

    # NumPy lets go of the GIL in its loops: chunks on all cores (up to WORKERS) at once,
    # each half the size, so memory stays what one chunk took before.
    workers = max(1, min(WORKERS, os.cpu_count() or 1))
    step = max(1, CHUNK // workers)
    chunks = [covered[b:b + step] for b in range(0, covered.size, step)]
    for area, seen in map_threads(one_chunk, chunks, workers):
        area_all += area
        area_seen += seen
    times["project"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    known = np.zeros(n, bool)
    known[covered] = True
    rgb = fill_holes(out.reshape(size, size, 3), known.reshape(size, size))
    times["compose"] = time.perf_counter() - t3
    return BakeResult(
        name=mesh.name, rgb=rgb, uncovered=uncovered.reshape(size, size),
        coverage=area_seen / area_all if area_all > 0 else 0.0,
        views_used=tuple(v.name for (v, _i), u in zip(views, used, strict=True) if u),
        timings=times)
