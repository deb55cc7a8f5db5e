"""Issue 10: one typed hand-off. A request comes from settings in one place (intents), a
job carries a typed Target, and a new destination is a new Target class placed through
the same public path as the built-in ones."""
from __future__ import annotations

from dataclasses import dataclass

import bpy
from helpers import addon_module, assert_pixels_match, nb_images, runtime, status


def _hand_off():
    return addon_module("intents"), addon_module("targets"), addon_module("pump")


def test_a_custom_target_places_results_through_the_public_path(fake, scene):
    intents, targets, pump = _hand_off()
    placed: list[tuple[str, int]] = []

    @dataclass(frozen=True)
    class OnWorldBackground(targets.Target):
        """A destination the add-on does not have: the image as the world's colour."""
        strength: float = 2.0

        def place(self, images):
            world = bpy.data.worlds.new("NB world")
            if bpy.app.version < (5, 0, 0):
                world.use_nodes = True
            env = world.node_tree.nodes.new("ShaderNodeTexEnvironment")
            env.image = images[0]
            background = world.node_tree.nodes["Background"]
            world.node_tree.links.new(env.outputs["Color"], background.inputs["Color"])
            background.inputs["Strength"].default_value = self.strength
            bpy.context.scene.world = world
            placed.append((images[0].name, len(images)))

    kind = addon_module("operators").JobKind.GENERATE
    scene.nanobanana.variations = 2
    request = intents.request_from_settings(scene.nanobanana, kind, size_hint=(320, 180))
    job = pump.submit(bpy.context, request, OnWorldBackground(3.0))
    level, text = pump.wait_and_apply(job)
    assert level == "INFO" and "2 images from Nano Banana 2.1" in text
    world = bpy.context.scene.world
    env = next(n for n in world.node_tree.nodes if n.type == "TEX_ENVIRONMENT")
    assert placed == [(env.image.name, 2)] and env.image.packed_file is not None
    assert world.node_tree.nodes["Background"].inputs["Strength"].default_value == 3.0
    matches = 0
    for sent in fake.generate_requests:          # the image is one of the two variations
        try:
            assert_pixels_match(env.image, sent.seed)
            matches += 1
        except AssertionError:
            pass
    assert matches == 1
    assert isinstance(runtime().STATE.last_target, OnWorldBackground)
    # Refine of a result from a target without its own refine goes to a plain image.
    assert isinstance(runtime().STATE.last_target.for_refine(), targets.ImageOnly)


def test_a_target_that_fails_leaves_no_datablocks_and_keeps_the_result(fake, scene):
    intents, targets, pump = _hand_off()

    @dataclass(frozen=True)
    class Broken(targets.Target):
        def place(self, images):
            raise RuntimeError("the node group is missing")

    before = len(bpy.data.images)
    request = intents.request_from_settings(scene.nanobanana, addon_module("operators").JobKind.GENERATE)
    level, text = pump.wait_and_apply(pump.submit(bpy.context, request, Broken()))
    assert level == "ERROR" and "the node group is missing" in text and "saved in the Nano Banana history" in text
    assert len(bpy.data.images) == before and status().level == "ERROR"


def test_the_request_is_settled_once_from_settings(fake, scene):
    intents = addon_module("intents")
    JobKind = addon_module("operators").JobKind
    s = scene.nanobanana
    s.model, s.aspect_ratio, s.image_size, s.seamless, s.speed = (
        "gemini-3.1-flash-lite-image", "AUTO", "1K", True, "BEST")
    r = intents.request_from_settings(s, JobKind.EDIT_RENDER, size_hint=(4000, 500))
    assert (r.model, r.aspect_ratio, r.image_size, r.thinking_level) == (
        "gemini-3.1-flash-lite-image", "8:1", None, "HIGH")     # Lite: no size parameter at all
    assert r.seamless is False and r.kind == JobKind.EDIT_RENDER   # seamless is for textures
    s.model = "gemini-3-pro-image"
    r = intents.request_from_settings(s, JobKind.GENERATE, size_hint=(4000, 500))
    assert (r.aspect_ratio, r.image_size, r.thinking_level, r.seamless) == ("21:9", "1K", None, True)
    s.prompt = "   "
    try:
        intents.request_from_settings(s, JobKind.GENERATE)
    except Exception as exc:  # noqa: BLE001
        assert str(exc) == "Type a prompt first."
    else:
        raise AssertionError("an empty prompt must be refused")
    assert nb_images() == []


def test_results_follow_objects_through_renames_and_say_where_they_are_when_gone(fake, scene):
    """Issue 16 (5): a target is bound to the objects themselves, not to their names."""
    pump = addon_module("pump")
    ops = addon_module("operators")
    fake.latency = 0.5
    cube = bpy.data.objects["Cube"]
    job = pump.submit(bpy.context, *ops.Generate.build(bpy.context))
    cube.name = "Hero Rock"                          # renamed while Gemini works
    level, _text = pump.wait_and_apply(job)
    assert level == "INFO" and bpy.data.objects["Hero Rock"].active_material is not None
    job = pump.submit(bpy.context, *ops.Generate.build(bpy.context))
    bpy.data.objects.remove(bpy.data.objects["Hero Rock"])          # deleted while it works
    level, text = pump.wait_and_apply(job)
    assert level == "WARNING" and "were deleted" in text and "history" in text
    mat_name = text.split("material '")[1].split("'")[0]
    assert bpy.data.materials[mat_name].node_tree is not None       # the result is kept
