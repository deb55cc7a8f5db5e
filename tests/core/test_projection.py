"""core/projection.py without Blender: rasterisation, visibility (back faces, occlusion,
grazing angles), orientation of the projected image, multi-view mixing, hole filling."""
from __future__ import annotations

import numpy as np
import pytest

from nanobanana_addon.core import projection as P


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    eye, target, up = (np.asarray(v, float) for v in (eye, target, up))
    f = target - eye
    f /= np.linalg.norm(f)
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = r, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective(fov_y: float, aspect: float, near=0.1, far=100.0) -> np.ndarray:
    f = 1.0 / np.tan(fov_y / 2)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)], [0, 0, -1, 0]])


def ortho(half_w: float, half_h: float, near=0.1, far=100.0) -> np.ndarray:
    return np.array([[1 / half_w, 0, 0, 0], [0, 1 / half_h, 0, 0],
                     [0, 0, -2 / (far - near), -(far + near) / (far - near)], [0, 0, 0, 1]])


def view(v: np.ndarray, p: np.ndarray, w=400, h=300, name="front") -> P.View:
    return P.View(tuple(map(tuple, v)), tuple(map(tuple, p)), w, h, name)


def quad(center, right, up, uv_box=(0.0, 0.0, 1.0, 1.0), name="quad") -> P.MeshArrays:
    """A rectangle as two triangles, counter-clockwise seen from its front (right x up)."""
    c, r, u = (np.asarray(v, float) for v in (center, right, up))
    corners = [c - r - u, c + r - u, c + r + u, c - r + u]
    u0, v0, u1, v1 = uv_box
    uvs = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
    tris = [(0, 1, 2), (0, 2, 3)]
    pos = np.array([[corners[i] for i in t] for t in tris], np.float32)
    n = np.cross(r, u) / np.linalg.norm(np.cross(r, u))
    return P.MeshArrays(name, pos, np.broadcast_to(n, pos.shape).astype(np.float32).copy(),
                        np.array([[uvs[i] for i in t] for t in tris], np.float32))


def gradient(w=400, h=300) -> np.ndarray:
    """Red grows to the right, green grows downwards (top-down image), blue constant."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(0, 255, w)[None, :]
    img[..., 1] = np.linspace(0, 255, h)[:, None]
    img[..., 2] = 77
    return img


FRONT = look_at((0, -5, 0), (0, 0, 0))          # looks along +Y; world X is right, Z up


def texel(rgb: np.ndarray, u: float, v: float) -> np.ndarray:
    s = rgb.shape[0]
    return rgb[min(s - 1, int((1 - v) * s)), min(s - 1, int(u * s))].astype(int)


def test_rasterize_covers_each_pixel_centre_once_for_a_square():
    sq = np.array([[(2, 2), (6, 2), (6, 6)], [(2, 2), (6, 6), (2, 6)]], float)
    pix = np.concatenate([p for p, _t, _b in P.rasterize(sq, 10, 10, chunk=7)])
    assert len(np.unique(pix)) == 16        # centres 2.5 .. 5.5 on both axes
    assert set(np.unique(pix)) == {y * 10 + x for y in range(2, 6) for x in range(2, 6)}


@pytest.mark.parametrize("camera", ["persp", "ortho"])
def test_a_face_seen_from_the_front_gets_the_image_the_right_way_round(camera):
    p = perspective(0.9, 4 / 3) if camera == "persp" else ortho(2.0, 1.5)
    v = view(FRONT, p)
    mesh = quad((0, 0, 0), (1, 0, 0), (0, 0, 1))
    res = P.bake(mesh, [(v, gradient())], [mesh.positions], 64)
    left, right = texel(res.rgb, 0.1, 0.5), texel(res.rgb, 0.9, 0.5)
    top, bottom = texel(res.rgb, 0.5, 0.9), texel(res.rgb, 0.5, 0.1)
    assert left[0] < right[0] - 40              # left stays left
    assert top[1] < bottom[1] - 40               # top stays top (green grows downwards)
    assert np.all(res.rgb[..., 2] == 77) and res.coverage == pytest.approx(1.0)
    # Exact: the texel centre projects where the image says.
    ndc, _d, _w = P._project(v, np.array([[0.0, 0.0, 0.0]]))
    expected = P.sample(gradient(), ndc)[0] * 255
    assert np.abs(texel(res.rgb, 0.5, 0.5) - expected).max() <= 5
    assert res.views_used == ("front",) and res.uncovered.max() == 0


def test_back_faces_keep_the_base_and_are_marked_uncovered():
    v = view(FRONT, perspective(0.9, 4 / 3))
    back = quad((0, 0, 0), (-1, 0, 0), (0, 0, 1))        # normal +Y: faces away
    base = np.full((32, 32, 3), 200, np.uint8)
    res = P.bake(back, [(v, gradient())], [back.positions], 32, base=base)
    assert np.all(res.rgb == 200) and res.coverage == 0.0 and res.views_used == ()
    assert res.uncovered.max() == 255


def test_an_occluder_keeps_the_colour_off_the_hidden_part():
    v = view(FRONT, perspective(0.9, 4 / 3))
    target = quad((0, 2, 0), (1, 0, 0), (0, 0, 1), name="behind")
    blocker = quad((-0.5, 0, 0), (0.5, 0, 0), (0, 0, 2), name="front")   # covers x < 0 of the view
    res = P.bake(target, [(v, gradient())], [target.positions, blocker.positions], 64,
                 fill=(0.0, 0.0, 0.0))
    hidden, visible = texel(res.rgb, 0.2, 0.5), texel(res.rgb, 0.85, 0.5)
    assert hidden.tolist() == [0, 0, 0]
    assert visible[2] == 77
    assert 0.3 < res.coverage < 0.7


def test_grazing_faces_fade_out_and_head_on_faces_get_everything():
    v = view(FRONT, ortho(3.0, 3.0), 300, 300)
    img = np.full((300, 300, 3), 255, np.uint8)
    mesh_n = []
    for angle in (0.0, 60.0, 87.0):               # angle between face normal and view ray
        a = np.radians(angle)
        right = (np.cos(a), np.sin(a), 0.0)       # turned about Z
        mesh_n.append(quad((0, 0, 0), right, (0, 0, 1)))
    got = [texel(P.bake(m, [(v, img)], [m.positions], 16, fill=(0, 0, 0)).rgb, 0.5, 0.5)[0]
           for m in mesh_n]
    assert got[0] == 255 and got[1] == 255 and got[2] == 0


def test_the_squarer_view_dominates_the_mix():
    mesh = quad((0, 0, 0), (1, 0, 0), (0, 0, 1))
    head_on = view(FRONT, ortho(2, 2), 200, 200, "front")
    slanted = view(look_at((4, -3, 0), (0, 0, 0)), ortho(2, 2), 200, 200, "side")   # ~53 deg off
    red = np.zeros((200, 200, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((200, 200, 3), np.uint8)
    blue[..., 2] = 255
    res = P.bake(mesh, [(head_on, red), (slanted, blue)], [mesh.positions], 16)
    r, _g, b = texel(res.rgb, 0.5, 0.5)
    assert r > 200 and b < 50 and set(res.views_used) == {"front", "side"}


def test_fill_holes_spreads_known_colours_and_keeps_them():
    rgb = np.zeros((8, 8, 3), np.float32)
    known = np.zeros((8, 8), bool)
    rgb[:, :4] = (1, 0, 0)
    known[:, :4] = True
    out = P.fill_holes(rgb, known)
    assert np.all(out[:, :4] == (1, 0, 0)) and np.allclose(out[:, 4:], (1, 0, 0))


def test_bake_is_cancellable():
    import threading
    mesh = quad((0, 0, 0), (1, 0, 0), (0, 0, 1))
    ev = threading.Event()
    ev.set()
    with pytest.raises(Exception, match="ancel"):
        P.bake(mesh, [(view(FRONT, ortho(2, 2)), gradient())], [mesh.positions], 16, cancel=ev)


def test_an_occluder_that_reaches_behind_the_camera_still_hides_what_is_behind_it():
    """A sloping floor from behind the camera (y = -6, camera at y = -5) to just before the
    target: it crosses the near plane, and the part the camera renders hides the lower
    half of the target."""
    v = view(FRONT, perspective(0.9, 4 / 3, near=0.1))
    target = quad((0, 2, 0), (1, 0, 0), (0, 0, 1), name="behind")        # z -1 .. 1, faces the camera
    y0, z0, y1, z1 = -6.0, -2.0, 1.5, 0.2
    corners = np.array([(-3, y0, z0), (3, y0, z0), (3, y1, z1), (-3, y1, z1)], np.float32)
    floor = corners[[[0, 1, 2], [0, 2, 3]]]
    assert (P.zbuffer(v, [floor]) < np.inf).any()
    res = P.bake(target, [(v, gradient())], [target.positions, floor], 64, fill=(0.0, 0.0, 0.0))
    # The eye ray to (x, 2, z) passes the floor's far edge (y = 1.5) at height z * 6.5 / 7:
    # below 0.2 the floor is in the way.
    assert texel(res.rgb, 0.5, 0.15).tolist() == [0, 0, 0]          # z = -0.7: hidden
    assert texel(res.rgb, 0.5, 0.45).tolist() == [0, 0, 0]          # z = -0.1: hidden
    assert texel(res.rgb, 0.5, 0.8)[2] == 77                          # z = 0.6: seen
    assert 0.3 < res.coverage < 0.5


def test_near_plane_clipping_keeps_exactly_the_part_in_front():
    tris = np.array([[(0, 0, 0), (2, 0, 0), (0, 2, 0)]], float)
    for depth, area in (((1.0, -1.0, -1.0), 0.5), ((1.0, 1.0, -1.0), 2.0 - 0.5), ((1, 1, 1), 2.0), ((-1, -1, -1), 0)):
        out = P.clip_near(tris, np.array([depth], float), 0.0)
        got = 0.5 * np.linalg.norm(np.cross(out[:, 1] - out[:, 0], out[:, 2] - out[:, 0]), axis=1).sum()
        assert got == pytest.approx(area)
        if out.size:
            assert np.all(np.cross(out[:, 1] - out[:, 0], out[:, 2] - out[:, 0])[:, 2] > 0)   # winding kept


def test_the_near_plane_is_read_from_the_projection_matrix():
    assert view(FRONT, perspective(0.9, 4 / 3, near=0.25)).near == pytest.approx(0.25)
    assert view(FRONT, ortho(2, 2, near=0.5)).near == pytest.approx(0.5)


def test_owners_on_threads_matches_one_thread_and_the_last_triangle_wins(monkeypatch):
    rng = np.random.default_rng(3)
    uvs = rng.random((5000, 3, 2)).astype(np.float32)          # heavily overlapping
    monkeypatch.setattr(P, "WORKERS", 1)
    one = P.owners(uvs, 64)
    monkeypatch.setattr(P, "WORKERS", 4)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 4)
    assert np.array_equal(P.owners(uvs, 64), one)


def test_a_bake_on_threads_equals_the_bake_on_one(monkeypatch):
    v = view(FRONT, perspective(0.9, 4 / 3))
    target = quad((0, 2, 0), (1, 0, 0), (0, 0, 1), name="behind")
    blocker = quad((-0.5, 0, 0), (0.5, 0, 0), (0, 0, 2), name="front")
    occ = [target.positions, blocker.positions]
    monkeypatch.setattr(P, "CHUNK", 1000)             # many chunks
    monkeypatch.setattr(P.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(P, "WORKERS", 1)
    one = P.bake(target, [(v, gradient())], occ, 128, fill=(0.0, 0.0, 0.0))
    monkeypatch.setattr(P, "WORKERS", 4)
    many = P.bake(target, [(v, gradient())], occ, 128, fill=(0.0, 0.0, 0.0))
    assert np.array_equal(one.rgb, many.rgb) and np.array_equal(one.uncovered, many.uncovered)
    assert one.coverage == pytest.approx(many.coverage) and 0.3 < one.coverage < 0.7
