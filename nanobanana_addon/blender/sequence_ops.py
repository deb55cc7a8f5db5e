"""Edit Sequence (issue 13): one instruction over every frame of an image sequence.

Owns what the operator `nanobanana.edit_sequence` does, the `EditFrames` target and
loading the edited frames back as one image sequence. The frames come from the Image
Editor's image when its source is an Image Sequence, from the scene's frame range rendered
to files (`use_renders`), or from a file / pattern (`filepath`: scripts and the command line).
Planning and the run are core/sequence.py: frame 1 is sent alone, then the others in
parallel with its answer as a reference, each answer saved to history and written as
`<stem>_nb_####.png` next to the originals on the job's worker. `place()` (main thread)
loads those files as one Image with source 'SEQUENCE' and shows it in the Image Editor.
Same job, pump, history and cancel as every other request. Blender registers the
operator's thin declaration (classes/sequence.py, with its properties); `EditSequence` here
is its code, loaded on the first call (lazy.py).
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import bpy

from ..core import errors, images, models
from ..core.request import JobKind
from . import operators, properties
from .targets import ImageOnly, Target

if TYPE_CHECKING:
    from ..core.pipeline import Outcome
    from ..core.request import GenerationRequest
    from ..core.sequence import Plan

SEQUENCE_KEY = "nanobanana_sequence"      # Image: {"first", "last", "frames", "pattern", ...}


# ---------------------------------------------------------------- which frames
def sequence_image(context) -> tuple[bpy.types.Image | None, Any]:
    """The image sequence shown in the Image Editor (this one, else any), with its image user."""
    space = getattr(context, "space_data", None)
    spaces = [space] if space is not None and space.type == "IMAGE_EDITOR" else []
    wm = context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type == "IMAGE_EDITOR":
                spaces.append(area.spaces.active)
    for sp in spaces:
        if sp.image is not None and sp.image.source == "SEQUENCE":
            return sp.image, sp.image_user
    if spaces and spaces[0].image is not None:
        raise errors.not_a_sequence(f"'{spaces[0].image.name}'")
    return None, None


def find(context, filepath: str = "", frames: str = "", use_renders: bool = False
         ) -> tuple[Any, list[tuple[int, str]], tuple[int, int]]:
    """(spec, [(number, path)], (image user frame_start, frame_offset)) of the frames to edit."""
    from ..core import sequence
    rng = sequence.parse_range(frames) if frames.strip() else None
    if filepath:
        spec, found = sequence.find_frames(bpy.path.abspath(filepath), rng)
        return spec, found, (found[0][0], found[0][0] - 1)
    scene = context.scene
    if use_renders:
        start, end = rng or (scene.frame_start, scene.frame_end)
        spec, found = sequence.find_frames(scene.render.frame_path(frame=start), (start, end))
        return spec, found, (found[0][0], found[0][0] - 1)
    img, user = sequence_image(context)
    if img is None:
        raise errors.no_sequence_source()
    path = bpy.path.abspath(img.filepath, library=img.library)
    # The editor's image user spans the frames it plays (its default span may run past the
    # files, so it bounds the files found rather than naming frames that must exist).
    span = ((user.frame_offset + 1, user.frame_offset + user.frame_duration)
            if user is not None and user.frame_duration > 1 else None)
    spec, found = sequence.find_frames(path, rng, None if rng else span)
    if user is not None:
        return spec, found, (user.frame_start, user.frame_offset)
    return spec, found, (found[0][0], found[0][0] - 1)


# ---------------------------------------------------------------- the target
@dataclass(frozen=True, eq=False)
class EditFrames(Target):
    """Frames of one sequence, edited in one style (core/sequence.run_frames on the worker),
    written as numbered files, loaded back as one image sequence (main thread)."""
    plan: Plan | None = None
    frame_start: int = 1          # the image user that shows the edited sequence
    frame_offset: int = 0
    out: dict[str, Any] = field(default_factory=dict, repr=False)     # worker -> place, CLI

    @property
    def colorspace(self) -> str | None:
        return "sRGB"

    # -- worker thread: plain values only
    def work(self, request: GenerationRequest, cancel: threading.Event,
             run: Callable[[GenerationRequest, threading.Event], Outcome]) -> Outcome:
        from ..core import sequence
        assert self.plan is not None
        state = sequence.SequenceRun(self.plan)
        self.out["run"] = state
        return sequence.merged_outcome(sequence.run_frames(self.plan, request, run, cancel, state))

    def landed_count(self, packed: int) -> int:
        run = self.out.get("run")
        return run.done if run is not None else packed

    # -- main thread
    def place(self, images: list[bpy.types.Image]) -> str | None:
        assert self.plan is not None
        img = load_sequence(self.plan, self.frame_start, self.frame_offset)
        self.out["image"] = img.name
        for packed in images:           # frame 1 as a packed copy: the files are the result
            bpy.data.images.remove(packed)
        return None                     # where the frames went: a note of the outcome

    def for_refine(self) -> Target:
        return ImageOnly("sRGB")


def load_sequence(plan: Plan, frame_start: int, frame_offset: int) -> bpy.types.Image:
    """The edited files as one Image (source 'SEQUENCE'), shown in the Image Editors with
    an image user covering every frame (frame_duration = the frame count)."""
    from . import apply
    img = bpy.data.images.load(plan.frames[0].output, check_existing=False)
    img.source = "SEQUENCE"
    img.name = os.path.basename(plan.output.display)
    img.use_fake_user = True
    img[SEQUENCE_KEY] = json.dumps({"first": plan.first, "last": plan.last, "frames": plan.count,
                                    "pattern": plan.output.display, "frame_start": frame_start,
                                    "frame_offset": frame_offset})
    apply.show_in_image_editors(img)
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            space = area.spaces.active if area.type == "IMAGE_EDITOR" else None
            if space is not None and space.image == img:
                set_user(space.image_user, plan.count, frame_start, frame_offset)
    return img


def set_user(user, frames: int, frame_start: int, frame_offset: int) -> None:
    """An image user that plays the sequence: scene frame `frame_start` shows file
    `frame_offset + 1`, for `frames` frames."""
    user.frame_duration = frames
    user.frame_start = frame_start
    user.frame_offset = frame_offset


# ---------------------------------------------------------------- building the job
def build(context, filepath: str = "", frames: str = "", use_renders: bool = False,
          output_dir: str = "") -> tuple[GenerationRequest, EditFrames]:
    """The template request (settled from frame 1, as any edit) and the target (main thread)."""
    from ..core import sequence
    from . import intents
    s = context.scene.nanobanana
    model = properties.model_id(s)
    intents.check_model(model)
    spec, found, (frame_start, frame_offset) = find(context, filepath, frames, use_renders)
    folder = bpy.path.abspath(output_dir) if output_dir else None
    plan = sequence.plan(spec, found, folder)
    first = sequence.read_frame(plan.frames[0])
    try:
        w, h, _mime = images.probe(first.data)
    except Exception as exc:  # noqa: BLE001 - Pillow cannot read it
        raise errors.file_unreadable(plan.frames[0].source, f"not an image: {exc}") from None
    request = intents.request_from_settings(s, JobKind.EDIT_SEQUENCE, [first], (w, h), variations=1)
    info = models.lookup(request.model)
    if len(request.images) + 1 > info.max_reference_images:     # + frame 1's answer
        raise errors.too_many_images(info.label, info.max_reference_images,
                                     len(request.images) + 1 - info.max_reference_images)
    if folder:
        os.makedirs(folder, exist_ok=True)
    return request, EditFrames(plan=plan, frame_start=frame_start, frame_offset=frame_offset)


class EditSequence(operators._Submit):
    """nanobanana.edit_sequence (declared in classes/sequence.py, with its properties)."""
    kind = JobKind.EDIT_SEQUENCE

    def build(self, context):  # type: ignore[override]  # reads this call's properties
        return build(context, self.filepath, self.frames, self.use_renders, self.output_dir)


def draw_button(layout, context) -> None:
    """Image Editor: the button, when the image shown is a sequence, and how far a running
    sequence is."""
    from . import runtime
    space = getattr(context, "space_data", None)
    img = getattr(space, "image", None)
    if img is not None and img.source == "SEQUENCE":
        layout.operator("nanobanana.edit_sequence", icon="RENDER_ANIMATION")
    for job in runtime.STATE.jobs.running():
        state = job.target.out.get("run") if isinstance(job.target, EditFrames) else None
        if state is not None and state.stage:
            layout.label(text=f"Sequence: {state.stage}", icon="SORTTIME")

