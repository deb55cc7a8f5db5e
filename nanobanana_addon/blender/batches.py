"""Batches in Blender: send the prompt (x variations, or one prompt per line of the prompt
text) through the Gemini Batch API at half the price, watch the batches in a sub-panel,
and bring their results in when they are done. Also the CLI's `batch` commands.

The requests come from `intents.request_from_settings` like every other ask; the Batch API
calls (`core.batch`) run on a worker thread; a timer polls unfinished batches every
POLL_S seconds (each batch's id and requests are kept in the history folder's
`batches.json`, so a batch sent before Blender quit is picked up at the next start), and
results are placed into the open file through `pump.apply_job`, ~10 ms of them per tick
every 30 ms, when the batch was sent from this file. Every result is in history whichever file is open.

Blender registers the operators and the sub-panel as thin declarations (classes/batches.py,
which also starts the poll timer at enable); this module loads on their first use (lazy.py).
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import bpy

from ..core import errors, models
from ..core.request import JobKind
from . import properties

if TYPE_CHECKING:   # .intents, .pump, .runtime, .targets, ..core.jobs load on first use (bench P3)
    from ..core.batch import BatchRecord, BatchStore, FetchReport
    from ..core.jobs import Job
    from ..core.request import GenerationRequest
    from . import targets

POLL_S = 60.0            # how often unfinished batches are asked about (UI); the first
                         # tick (classes/batches.FIRST_POLL_S after start-up) asks at once
PLACE_BUDGET_S = 0.010   # main-thread time per tick for placing results (one at least)
PLACE_TICK_S = 0.03      # next tick while results wait to be placed (the UI runs in between)
TICK_S = 0.5


class _State:
    def __init__(self) -> None:
        self.done: queue.Queue[tuple[str, Any]] = queue.Queue()   # (what, value) from workers
        self.busy = False                    # a worker is talking to Gemini
        self.next_poll = 0.0
        self.to_place: list[tuple[Any, int, str]] = []   # (Outcome, file token, scene name)
        self.sent_here: set[str] = set()     # batch names sent from the current file (token)
        self.token = -1
        self.summary: tuple[str, str] | None = None   # the batch status line, shown after placing


STATE = _State()


def store(context=None) -> BatchStore:
    from ..core.batch import BatchStore
    from . import runtime
    return BatchStore(runtime.history_root(context))


def records(context=None) -> list[BatchRecord]:
    return sorted(store(context).load(), key=lambda r: r.created_ts, reverse=True)


# ---------------------------------------------------------------- requests from settings
def requests_from_settings(context, per_line: bool = False) -> list[GenerationRequest]:
    """The batch's requests: the prompt with its variations, or one request per non-empty
    line of the prompt text (each with the variations). Through intents, as every ask."""
    first, more = settings_and_lines(context, per_line)
    return per_line_requests(first, more)


def settings_and_lines(context, per_line: bool = False, edit: str = "NONE",
                       ) -> tuple[GenerationRequest, list[str]]:
    """The first request (through intents, or the Edit Texture / Edit Render operator's
    capture when `edit` is TEXTURE / RENDER) and the other lines' prompts. The settings are
    read and the image captured once: the lines differ only in the prompt, so 200 lines
    cost the main thread what one request costs."""
    s = context.scene.nanobanana
    if not per_line or s.prompt_text is None:
        return _first_request(context, edit), []
    lines = [ln.strip() for ln in s.prompt_text.as_string().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise errors.no_prompt()
    text, s.prompt_text = s.prompt_text, None
    keep = s.prompt
    try:
        s.prompt = lines[0]
        first = _first_request(context, edit)
    finally:
        s.prompt, s.prompt_text = keep, text
    return first, lines[1:]


def _first_request(context, edit: str) -> GenerationRequest:
    from . import intents
    if edit == "NONE":
        r = context.scene.render
        return intents.request_from_settings(context.scene.nanobanana, JobKind.GENERATE,
                                             size_hint=(r.resolution_x, r.resolution_y))
    from . import operators
    op = operators.EditTexture if edit == "TEXTURE" else operators.EditRender
    request, _target = op.build(context)      # batch results land as images (ImageOnly)
    if request.mask is not None:
        raise errors.batch_no_mask()
    return request


def per_line_requests(first: GenerationRequest, more: list[str]) -> list[GenerationRequest]:
    """`first` and one copy of it per prompt in `more` (plain values: any thread)."""
    return [first, *(replace(first, prompt=line, images=list(first.images)) for line in more)]


def batch_estimate(context, per_line: bool = False) -> tuple[int, float | None]:
    """(images, USD at the batch price) for what Send as Batch would send (cheap: draw)."""
    s = context.scene.nanobanana
    model = properties.model_id(s)
    prompts = 1
    if per_line and s.prompt_text is not None:
        prompts = sum(1 for ln in s.prompt_text.as_string().splitlines()
                      if ln.strip() and not ln.lstrip().startswith("#"))
    images = prompts * s.variations
    cost = models.estimate_cost(model, s.image_size, images, len(s.references))
    return images, models.batch_price(cost)


# ---------------------------------------------------------------- worker plumbing
def _run(what: str, work: Callable[[], Any]) -> None:
    """Run `work` on a thread; its answer (or typed error) comes back to the timer."""
    STATE.busy = True

    def run() -> None:
        try:
            STATE.done.put((what, work()))
        except errors.NanoBananaError as exc:
            STATE.done.put(("error", exc))
        except Exception as exc:  # noqa: BLE001 - a bug still ends visibly
            STATE.done.put(("error", errors.NanoBananaError(
                f"Internal error in Nano Banana ({type(exc).__name__}: {exc}). Please report it.")))
        finally:
            STATE.busy = False
    threading.Thread(target=run, name="nanobanana-batch", daemon=True).start()
    ensure_timer()


def _submit_work(context, requests: list[GenerationRequest] | Callable[[], list[GenerationRequest]],
                 ) -> Callable[[], BatchRecord]:
    """Plain values taken here (main thread); core.batch is imported and run on the worker,
    so sending never stalls Blender (not even for the first import). `requests` may be a
    function of plain values that makes them (run on the worker too)."""
    from . import pump, runtime
    config, root, blend = pump.client_config(context), runtime.history_root(context), bpy.data.filepath

    def work() -> BatchRecord:
        from ..core import batch
        todo = requests() if callable(requests) else requests
        return batch.submit(config, todo, batch.BatchStore(root), blend_file=blend)
    return work


def _refresh_work(context, name: str | None = None) -> Callable[[], tuple[list, list]]:
    from . import pump, runtime
    config, root = pump.client_config(context), runtime.history_root(context)

    def work() -> tuple[list, list]:
        from ..core import batch
        st = batch.BatchStore(root)
        if name:
            return [batch.refresh(config, st, name)], []
        return batch.refresh_all(config, st)      # quick when nothing is unfinished
    return work


def submit(context, requests: list[GenerationRequest] | Callable[[], list[GenerationRequest]], *,
           wait: bool = False) -> BatchRecord | None:
    """Send one batch: on a worker in the UI (None returned), synchronously when `wait`."""
    from . import runtime
    work = _submit_work(context, requests)
    _note_file()
    if wait:
        record = work()
        sent(record)
        return record
    runtime.set_status("Sending the batch…", "INFO")
    _run("sent", work)
    return None


def sent(record: BatchRecord) -> None:
    from . import runtime
    _note_file()
    STATE.sent_here.add(record.name)
    est = f", about ${record.estimate_usd:.3f} at the batch price" if record.estimate_usd else ""
    runtime.set_status(f"Batch sent: {record.total} image request(s) to "
                       f"{models.label_of(record.model)}{est}. Results arrive in history when "
                       "Gemini finishes (usually within hours).", "INFO")


def _note_file() -> None:
    from . import runtime
    if STATE.token != runtime.STATE.file_token:
        STATE.token, STATE.sent_here = runtime.STATE.file_token, set()


def fetch(context, name: str | None = None, *, wait: bool = False,
          ) -> tuple[list[FetchReport], list[errors.NanoBananaError]] | None:
    """Ask about one batch (or all unfinished); results go to history, then into the file.
    With `wait`: (reports, failures); one batch failing does not stop the others."""
    work = _refresh_work(context, name)
    if wait:
        reports, failures = work()
        took(reports)
        place_pending(budget_s=None)
        return reports, failures
    _run("fetched", work)
    return None


def took(reports: list[FetchReport]) -> None:
    """Main thread: queue new results for the file they were sent from; say what changed."""
    from . import gallery, runtime
    _note_file()
    scene = bpy.context.scene.name if bpy.context.scene else ""
    changed = [r for r in reports if r.changed or r.outcomes or r.failures]
    for rep in changed:
        rec = rep.record
        here = rec.name in STATE.sent_here or (bool(rec.blend_file) and rec.blend_file == bpy.data.filepath)
        if here:
            STATE.to_place += [(o, runtime.STATE.file_token, scene) for o in rep.outcomes]
    if changed:
        gallery.invalidate()
        last = changed[-1].record
        level = "WARNING" if last.failed or last.state in ("FAILED", "EXPIRED") else "INFO"
        STATE.summary = (last.summary(), level)
        runtime.set_status(*STATE.summary)


def finished_job(outcome, target: targets.Target, token: int, scene: str) -> Job:
    """A batch result as a finished job, so the pump places it like any other result."""
    from ..core.jobs import Job, JobState
    job = Job(label=outcome.request.prompt[:48], model=outcome.request.model,
              kind=outcome.request.kind, expected_s=0.0, target=target,
              payload={"file_token": token, "scene": scene}, state=JobState.DONE, result=outcome)
    job.finished = job.started
    return job


def place_pending(budget_s: float | None = PLACE_BUDGET_S) -> int:
    """Place queued batch results into the file through the pump (ImageOnly): as many as
    fit in `budget_s` of main-thread time (one at least; None: all of them)."""
    from . import pump, runtime, targets
    n, t0 = 0, time.perf_counter()
    while STATE.to_place and (budget_s is None or not n or time.perf_counter() - t0 < budget_s):
        outcome, token, scene = STATE.to_place.pop(0)
        pump.apply_job(finished_job(outcome, targets.ImageOnly(), token, scene))
        n += 1
    if n and not STATE.to_place and STATE.summary:
        runtime.set_status(*STATE.summary)      # the batch's line, not its last image's
    return n


# ---------------------------------------------------------------- timer
def _tick() -> float:
    from . import runtime
    while True:
        try:
            what, value = STATE.done.get_nowait()
        except queue.Empty:
            break
        if what == "sent":
            sent(value)
            STATE.next_poll = time.monotonic() + POLL_S
        elif what == "fetched":
            reports, failures = value
            took(reports)
            if failures:
                runtime.set_status(str(failures[0]), "WARNING", failures[0].fix)
        elif what == "error":
            runtime.set_status(str(value), "ERROR", value.fix, value.suggested_model)
    place_pending()
    if not STATE.busy and time.monotonic() >= STATE.next_poll:
        STATE.next_poll = time.monotonic() + POLL_S
        if _can_poll():              # the worker reads batches.json and asks about the unfinished
            _run("fetched", _refresh_work(bpy.context))
    if STATE.to_place:
        return PLACE_TICK_S
    return TICK_S if STATE.busy else 2.0


def _can_poll() -> bool:
    from .operators import readiness
    try:
        return readiness(bpy.context) is None
    except (KeyError, AttributeError):
        return False


def ensure_timer() -> None:
    """The timer registered is classes/batches.TICK (it calls _tick), the one enabling
    registers: never two of them."""
    from .classes.batches import TICK
    if not bpy.app.background and not bpy.app.timers.is_registered(TICK):
        bpy.app.timers.register(TICK, first_interval=TICK_S, persistent=True)


# ---------------------------------------------------------------- operators' code
class BatchSubmit:

    @classmethod
    def poll(cls, context):
        from .operators import poll_ready
        if not poll_ready(cls, context):
            return False
        if STATE.busy and not bpy.app.background:
            cls.poll_message_set("Talking to Gemini about batches…")
            return False
        return True

    def execute(self, context):
        from . import runtime
        from .operators import readiness
        try:
            blocker = readiness(context)
            if blocker is not None:
                raise blocker
            first, more = settings_and_lines(context, self.per_line, self.edit)
            record = submit(context, lambda: per_line_requests(first, more), wait=bpy.app.background)
        except errors.NanoBananaError as exc:
            runtime.set_status(str(exc), "ERROR", exc.fix, exc.suggested_model)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, runtime.STATE.status.text if record else "Sending the batch…")
        return {"FINISHED"}


class BatchFetch:

    @classmethod
    def poll(cls, context):
        if not bpy.app.background and STATE.busy:
            cls.poll_message_set("Talking to Gemini about batches…")
            return False
        return True

    def execute(self, context):
        from . import runtime
        from .operators import readiness
        blocker = readiness(context)
        if blocker is not None:
            self.report({"ERROR"}, str(blocker))
            return {"CANCELLED"}
        try:
            done = fetch(context, self.name or None, wait=bpy.app.background)
        except errors.NanoBananaError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        failures = done[1] if done else []
        if failures and self.name:
            self.report({"ERROR"}, str(failures[0]))
            return {"CANCELLED"}
        for exc in failures:          # other batches still came in
            self.report({"WARNING"}, str(exc))
        self.report({"INFO"}, runtime.STATE.status.text or "Asking Gemini…")
        return {"FINISHED"}


class BatchCancel:

    def execute(self, context):
        from ..core import batch
        from . import pump
        try:
            batch.cancel(pump.client_config(context), store(context), self.name)
        except errors.NanoBananaError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        fetch(context, self.name, wait=bpy.app.background)
        return {"FINISHED"}


class BatchForget:

    def execute(self, context):
        store(context).remove(self.name)
        return {"FINISHED"}


# ---------------------------------------------------------------- panel
STATE_ICONS = {"PENDING": "SORTTIME", "RUNNING": "PLAY", "SUCCEEDED": "CHECKMARK",
               "FAILED": "ERROR", "CANCELLED": "CANCEL", "EXPIRED": "TIME"}


def draw(layout, context) -> None:
    s = context.scene.nanobanana
    images, cost = batch_estimate(context)
    col = layout.column(align=True)
    price = f" · ${cost:.3f}" if cost is not None else ""
    col.operator("nanobanana.batch_submit", icon="PACKAGE").per_line = False
    col.label(text=f"{images} image(s) at ½ price{price}")
    if s.prompt_text is not None:
        n, c = batch_estimate(context, per_line=True)
        op = col.operator("nanobanana.batch_submit", text="Send Each Line as a Prompt", icon="ALIGN_JUSTIFY")
        op.per_line = True
        col.label(text=f"{n} image(s) at ½ price" + (f" · ${c:.3f}" if c is not None else ""))
    row = col.row(align=True)
    row.operator("nanobanana.batch_submit", text="Edit Texture", icon="TEXTURE").edit = "TEXTURE"
    row.operator("nanobanana.batch_submit", text="Edit Render", icon="RENDER_STILL").edit = "RENDER"
    if s.prompt_text is not None:       # full width: half a sidebar cuts these labels
        for edit, label in (("TEXTURE", "Edit Texture with Each Line"),
                            ("RENDER", "Edit Render with Each Line")):
            op = col.operator("nanobanana.batch_submit", text=label)
            op.edit, op.per_line = edit, True
    recs = records(context)
    if not recs:
        return
    row = layout.row()
    row.label(text="Batches")
    row.operator("nanobanana.batch_fetch", text="Fetch Results", icon="FILE_REFRESH")
    for rec in recs[:8]:
        box = layout.box()
        row = box.row()
        row.label(text=rec.display_name or rec.id, icon=STATE_ICONS.get(rec.state, "QUESTION"))
        if not rec.ended:
            row.operator("nanobanana.batch_cancel", text="", icon="X").name = rec.name
        else:
            row.operator("nanobanana.batch_forget", text="", icon="TRASH").name = rec.name
        text = f"{errors.batch_state_words(rec.state).split(' (')[0].split(':')[0]} · " \
               f"{rec.images_saved}/{rec.total} saved"
        if rec.failed:
            text += f" · {len(rec.failed)} failed"
        if rec.fetched and rec.missing:
            text += f" · {len(rec.missing)} not done"
        box.label(text=text)
        if rec.error:
            box.label(text=rec.error[:80], icon="ERROR")


class BatchesPanel:
    """The Batches sub-panel (declared twice in classes/batches.py: 3D View, Image Editor)."""

    def draw(self, context):
        draw(self.layout, context)
