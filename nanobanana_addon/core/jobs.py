"""Background jobs: one worker thread per job, a queue of finished jobs, cancel, progress.

Workers never touch bpy: they get plain values, call the client, save results to history
and put the finished Job on a queue. The main thread drains the queue (the Blender pump).
A cancelled job is reported as cancelled at once and whatever its thread still produces
is dropped from the job (an image Gemini still sends is saved to history by the pipeline). The API reports no progress, so progress is an estimate from elapsed time
against the model's typical latency, never reaching 100 % until the job is done.
"""
from __future__ import annotations

import itertools
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import errors
from .request import JobKind

_ids = itertools.count(1)


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class Job:
    label: str
    model: str
    kind: JobKind
    expected_s: float
    target: Any = None              # where the result goes (a Blender-side Target object)
    payload: dict[str, Any] = field(default_factory=dict)   # what else the pump needs
    id: int = field(default_factory=lambda: next(_ids))
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    state: JobState = JobState.RUNNING
    result: Any = None
    error: errors.NanoBananaError | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def progress(self) -> float:
        """0..1 estimate: approaches 0.95 as elapsed time passes the typical latency."""
        if self.state != JobState.RUNNING:
            return 1.0
        return 0.95 * (1.0 - math.exp(-self.elapsed / max(self.expected_s, 0.1) * 1.5))


class JobManager:
    def __init__(self) -> None:
        self._finished: queue.Queue[Job] = queue.Queue()
        self._running: dict[int, Job] = {}
        self._lock = threading.Lock()

    def submit(self, job: Job, work: Callable[[threading.Event], Any]) -> Job:
        """Start `work(cancel_event)` on a worker thread; its return value is job.result."""
        with self._lock:
            self._running[job.id] = job

        def run() -> None:
            try:
                result = work(job.cancel_event)
            except errors.NanoBananaError as exc:
                self._finish(job, None, exc)
            except Exception as exc:  # noqa: BLE001 - a bug must still end the job visibly
                self._finish(job, None, errors.NanoBananaError(
                    f"Internal error in Nano Banana ({type(exc).__name__}: {exc}). Please report it."))
            else:
                self._finish(job, result, None)

        threading.Thread(target=run, name=f"nanobanana-job-{job.id}", daemon=True).start()
        return job

    def _finish(self, job: Job, result: Any, error: errors.NanoBananaError | None) -> None:
        with self._lock:
            if job.state != JobState.RUNNING:      # already cancelled: drop the late result
                return
            job.result, job.error = result, error
            job.state = JobState.FAILED if error is not None else JobState.DONE
            if isinstance(error, errors.Cancelled):
                job.state = JobState.CANCELLED
            job.finished = time.monotonic()
            self._running.pop(job.id, None)
        job.done_event.set()
        self._finished.put(job)

    def cancel(self, job_id: int | None = None) -> list[Job]:
        """Cancel one job (or all). Reported as cancelled at once."""
        with self._lock:
            targets = [j for j in self._running.values() if job_id in (None, j.id)]
        for job in targets:
            job.cancel_event.set()
            self._finish(job, None, errors.cancelled())
        return targets

    def running(self) -> list[Job]:
        with self._lock:
            return sorted(self._running.values(), key=lambda j: j.id)

    def drain(self) -> list[Job]:
        out = []
        while True:
            try:
                out.append(self._finished.get_nowait())
            except queue.Empty:
                return out

    def wait(self, job: Job, timeout: float | None = None) -> bool:
        return job.done_event.wait(timeout)
