"""What each small operator does (main thread); Blender registers their thin declarations
in classes/operators.py, which load these classes on first use (lazy.py). A request operator validates,
captures its input images (capture.py), asks intents.py for the request and names a
Target (targets.py) for the result, submits a job and returns. In background mode
it waits for the job and applies it before returning, so scripts and the CLI work.

Failures end in {'CANCELLED'} with an ERROR report and leave no datablocks behind. In the
UI, poll() greys buttons out with the reason; in background mode poll() lets the call
through so scripts get the report instead of a poll exception.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from ..core import errors, models
from ..core.request import JobKind
from . import preferences, properties

if TYPE_CHECKING:
    from ..core.request import GenerationRequest
    from . import targets

# Loaded on first use, not when Blender starts (see bench P3): .capture, .intents, .pump,
# .runtime, .targets, .live_models, ..core.jobs and the rest of ..core.


def readiness(context) -> errors.NanoBananaError | None:
    """What stops any request right now (online access, key), or None. Cheap: poll/draw."""
    from ..core.keys import resolve_api_key
    if not bpy.app.online_access:
        return errors.offline()
    prefs = preferences.get(context)
    if not prefs.vertex_project.strip() and not resolve_api_key(prefs.api_key):
        return errors.missing_key()
    return None


def blocked_reason(context) -> str:
    err = readiness(context)
    return str(err) if err is not None else ""


def poll_ready(cls, context) -> bool:
    """poll() of anything that talks to Gemini: greyed out with the reason in the UI; in
    background mode let through, so scripts get the report instead of a poll error."""
    if bpy.app.background:
        return True
    why = blocked_reason(context)
    if why:
        cls.poll_message_set(why)
        return False
    return True


def _settings(context):
    return context.scene.nanobanana


def fail(op, exc: BaseException) -> set[str]:
    """An operator's preparation failed: the message in the status and the report (a
    traceback on the console only for what is not one of ours); nothing was sent."""
    from . import runtime
    if not isinstance(exc, errors.NanoBananaError):
        import traceback
        traceback.print_exc()
        exc = errors.prepare_failed(exc)
    runtime.set_status(str(exc), "ERROR", exc.fix, exc.suggested_model)
    op.report({"ERROR"}, str(exc))
    return {"CANCELLED"}


class _Submit:
    """Base of the operators that send a request: validate cheaply, capture the inputs
    (`build`), hand `request_from_settings` and a Target to the pump, return."""
    kind = JobKind.GENERATE

    @classmethod
    def poll(cls, context):
        return poll_ready(cls, context)

    @classmethod
    def build(cls, context) -> tuple[GenerationRequest, targets.Target]:
        raise NotImplementedError

    def execute(self, context):
        from ..core.jobs import JobState
        from . import pump, runtime
        try:
            blocker = readiness(context)
            if blocker is not None:
                raise blocker
            if not properties.prompt_of(_settings(context)):   # before any slow capture
                raise errors.no_prompt()
            request, target = self.build(context)
        except Exception as exc:  # noqa: BLE001 - a clear message, never a traceback dialog
            return fail(self, exc)
        job = pump.submit(context, request, target)
        if bpy.app.background:
            level, text = pump.wait_and_apply(job)
            self.report({level}, text)
            return {"CANCELLED"} if level == "ERROR" or job.state != JobState.DONE else {"FINISHED"}
        runtime.set_status(errors.sent_to(models.label_of(request.model)), "WORKING")
        self.report({"INFO"}, f"Nano Banana: {errors.sent_to(models.label_of(request.model))}")
        return {"FINISHED"}


class Generate(_Submit):
    kind = JobKind.GENERATE

    @classmethod
    def build(cls, context):
        from . import intents, targets
        s = _settings(context)
        r = context.scene.render
        request = intents.request_from_settings(s, cls.kind, size_hint=(r.resolution_x, r.resolution_y))
        selected = list(getattr(context, "selected_objects", None) or ())
        if s.result_target == "MATERIAL" and selected:
            return request, targets.NewMaterial.for_objects(selected, request.seamless, s.tile_size)
        return request, targets.ImageOnly()


class EditRender(_Submit):
    kind = JobKind.EDIT_RENDER

    @classmethod
    def build(cls, context):
        from ..core import images
        from ..core.request import InputImage
        from . import capture, intents, targets
        s = _settings(context)
        intents.check_model(properties.model_id(s))          # before the capture
        space = getattr(context, "space_data", None)
        use_viewport = (s.render_source == "VIEWPORT" and not bpy.app.background
                        and space is not None and space.type == "VIEW_3D")
        if s.render_source == "RENDER_RESULT":
            data = capture.render_result(context)
        else:
            data = capture.viewport(context) if use_viewport else capture.camera_render(context)
        w, h, _mime = images.probe(data)
        request = intents.request_from_settings(s, cls.kind, [InputImage(data, "image/png", "edit", "render")],
                                                (w, h))
        return request, targets.ImageOnly()


class EditTexture(_Submit):
    kind = JobKind.EDIT_TEXTURE

    @classmethod
    def poll(cls, context):
        if not bpy.app.background:
            from . import capture
            try:
                capture.active_texture(context)
            except errors.NanoBananaError as exc:
                cls.poll_message_set(str(exc))
                return False
        return _Submit.poll.__func__(cls, context)

    @classmethod
    def build(cls, context):
        from . import apply, capture, intents, targets
        s = _settings(context)
        intents.check_model(properties.model_id(s))
        img, mat, node = capture.active_texture(context)
        request = intents.request_from_settings(s, cls.kind, [capture.image_input(img, "edit")],
                                                tuple(img.size))
        # Results are sRGB PNGs: tagged sRGB, unless the original holds data (Non-Color).
        space = img.colorspace_settings.name if capture.is_data(img) else "sRGB"
        if mat is None:
            return request, targets.ImageOnly(space)
        return request, targets.ReplaceNode(apply.stable_ref(mat), node, space)


class DismissStatus:

    def execute(self, context):
        from . import runtime
        runtime.set_status("")
        return {"FINISHED"}


class Refine(_Submit):
    kind = JobKind.REFINE

    @classmethod
    def poll(cls, context):
        from . import runtime
        if not bpy.app.background and not runtime.STATE.last_turns:
            cls.poll_message_set("Generate or edit an image first")
            return False
        return _Submit.poll.__func__(cls, context)

    @classmethod
    def build(cls, context):
        from . import intents, runtime
        st = runtime.STATE
        if not st.last_turns:
            raise errors.nothing_to_refine()
        request = intents.request_from_settings(_settings(context), cls.kind, model=st.last_model or None,
                                                history=st.last_turns, carried_mask=st.last_mask)
        return request, st.last_target.for_refine()


class Cancel:

    def execute(self, context):
        from . import pump, runtime
        cancelled = runtime.STATE.jobs.cancel(self.job_id or None)
        for job in runtime.STATE.jobs.drain():
            pump.apply_job(job)
        self.report({"INFO"}, f"Cancelled {len(cancelled)} job(s)")
        return {"FINISHED"}


class RevertTexture:

    def execute(self, context):
        from . import apply
        obj = context.active_object
        mat = obj.active_material if obj else None
        node = mat.node_tree.nodes.active if mat and mat.node_tree else None
        original = apply.revert_node(mat, node.name) if node is not None else None
        if original is None:
            self.report({"ERROR"}, "The active node has no original image to go back to.")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Restored {original.name}")
        return {"FINISHED"}


class OpenPreferences:

    def execute(self, context):
        bpy.ops.screen.userpref_show("INVOKE_DEFAULT")
        context.preferences.active_section = "ADDONS"
        bpy.ops.preferences.addon_show(module=preferences.ADDON_ID)
        return {"FINISHED"}


class EnableOnlineAccess:

    def execute(self, context):
        from . import runtime
        context.preferences.system.use_online_access = True
        runtime.set_status("Online access enabled.", "INFO")
        return {"FINISHED"}


class SwitchModel:

    def execute(self, context):
        from . import live_models, runtime
        s = _settings(context)
        old = properties.model_id(s)
        new = self.model or models.DEFAULT_MODEL
        changes = properties.set_model(s, new)
        if runtime.STATE.last_model == old:      # Refine continues on the new model too
            runtime.STATE.last_model = new
        if not live_models.announce(new) and not changes:
            runtime.set_status(f"Switched to {models.label_of(new)}.", "INFO")
        return {"FINISHED"}


class RefreshModels:

    def execute(self, context):
        from . import live_models
        if not live_models.refresh(context, force=True, wait=bpy.app.background):
            why = blocked_reason(context) or "A refresh is already running."
            self.report({"WARNING"}, why)
            return {"CANCELLED"}
        return {"FINISHED"}


class ReferenceAdd:

    def execute(self, context):
        s = _settings(context)
        s.references.add()
        s.reference_index = len(s.references) - 1
        return {"FINISHED"}


class ReferenceRemove:

    def execute(self, context):
        s = _settings(context)
        if 0 <= s.reference_index < len(s.references):
            s.references.remove(s.reference_index)
            s.reference_index = max(0, s.reference_index - 1)
        return {"FINISHED"}
