"""Frame sequences (issue 13): one instruction over a numbered image sequence, in one style.

Owns the plan and the run, no bpy:
- `find_frames()`: the numbered files of a sequence, from a pattern (`shot_####.png`,
  `shot_%04d.png`) or any one of its files (`shot_0001.png`), optionally limited to a
  frame range; a gap, an unreadable format or more than MAX_FRAMES frames is refused with
  a clear message (errors.py).
- `plan()`: where each edited frame goes: `<stem>_nb_<number>.png` next to the originals
  (or in another folder), never over an existing file (`_nb2_`, `_nb3_`, ... instead).
- `frame_request()`: request 1 is frame 1 with the instruction, as any edit; requests
  2..N carry frame k, the instruction plus CONSISTENCY, and frame 1's edited result as a
  reference image (so every frame follows the same look).
- `run_frames()` (worker thread): frame 1 alone, then the others in parallel once the
  first answer is in; each answer is saved by `run` (history) and written as its numbered
  PNG; one frame failing does not stop the others; a cancel does.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import errors
from .request import InputImage

if TYPE_CHECKING:
    from .pipeline import Outcome
    from .request import GenerationRequest, OutputImage

MAX_FRAMES = 300                  # one paid request per frame: a larger shot goes in ranges
PARALLEL = 4                      # frames 2..N in flight at once
SUFFIX = "_nb"                    # shot_0001.png -> shot_nb_0001.png
READABLE = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff",
            ".bmp": "image/bmp", ".tga": "image/x-tga"}
REFERENCE_NAME = "first frame, edited"
# Sent after the artist's instruction with frames 2..N ({ref}: the reference's number).
CONSISTENCY = ("This image is frame {index} of {count} of one continuous shot, and the same "
               "instruction is applied to every frame. Reference image {ref} is the first frame "
               "of the shot, already edited with this instruction: match its result exactly "
               "(colours, materials, lighting, style and every detail the instruction added or "
               "changed), while keeping this frame's own composition, camera and motion.")

_NUMBER_AT_END = re.compile(r"^(.*?)(\d+)$")
_HASHES = re.compile(r"#+")
_PRINTF = re.compile(r"%0?(\d*)d")


@dataclass(frozen=True)
class Spec:
    """A numbered file name split around its frame number."""
    folder: str
    head: str                     # file name before the number ("shot_")
    width: int                    # digits, zero padded (0: unpadded)
    tail: str                     # after the number (".png")

    def name(self, number: int) -> str:
        return f"{self.head}{number:0{self.width}d}{self.tail}"

    def path(self, number: int) -> str:
        return os.path.join(self.folder, self.name(number))

    @property
    def display(self) -> str:
        return os.path.join(self.folder, f"{self.head}{'#' * max(1, self.width)}{self.tail}")


@dataclass(frozen=True)
class Frame:
    number: int
    source: str                   # the original file
    output: str                   # where its edited version is written


@dataclass(frozen=True)
class Plan:
    frames: tuple[Frame, ...]
    output: Spec                  # the edited files' names

    @property
    def count(self) -> int:
        return len(self.frames)

    @property
    def first(self) -> int:
        return self.frames[0].number

    @property
    def last(self) -> int:
        return self.frames[-1].number


def parse_range(text: str) -> tuple[int, int]:
    """"12-40" (or "12:40", or one frame "7") -> (12, 40); anything else is refused."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[-:]\s*(\d+)\s*)?", text or "")
    if not m:
        raise errors.frame_range_invalid(text)
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) is not None else start
    if end < start:
        raise errors.frame_range_invalid(text)
    return start, end


def spec_of(path_or_pattern: str) -> Spec:
    """The numbered-name shape of a pattern (`#` run or `%0Nd`) or of one frame's file."""
    folder, name = os.path.split(os.path.abspath(path_or_pattern))
    stem, ext = os.path.splitext(name)
    runs = list(_HASHES.finditer(name))
    if runs:
        run = runs[-1]
        return Spec(folder, name[:run.start()], len(run.group()), name[run.end():])
    printf = list(_PRINTF.finditer(name))
    if printf:
        p = printf[-1]
        return Spec(folder, name[:p.start()], int(p.group(1) or 0), name[p.end():])
    m = _NUMBER_AT_END.match(stem)
    if not m or not m.group(2):
        raise errors.not_a_sequence(path_or_pattern)
    digits = m.group(2)
    return Spec(folder, m.group(1), len(digits) if digits.startswith("0") else 0, ext)


def find_frames(path_or_pattern: str, frame_range: tuple[int, int] | None = None,
                bounds: tuple[int, int] | None = None) -> tuple[Spec, list[tuple[int, str]]]:
    """The sequence's frames as (number, path), in order. With `frame_range`, exactly those
    frames (each must exist); without, every file of the sequence (only those numbered
    within `bounds`, if given: an image user's span, which may run past the files), which
    must have no gaps."""
    spec = spec_of(path_or_pattern)
    ext = os.path.splitext(spec.tail)[1].lower() or spec.tail.lower()
    if ext not in READABLE:
        raise errors.sequence_format(ext or spec.tail, path_or_pattern)
    if frame_range is not None:
        start, end = frame_range
        if end - start + 1 > MAX_FRAMES:
            raise errors.sequence_too_long(end - start + 1, MAX_FRAMES)
        found = [(n, spec.path(n)) for n in range(start, end + 1)]
        missing = [n for n, p in found if not os.path.isfile(p)]
        if len(missing) == len(found):
            raise errors.sequence_empty(spec.display, f"{start}-{end}")
        if missing:
            raise errors.frames_missing(spec.display, missing)
        return spec, found
    try:
        names = os.listdir(spec.folder)
    except OSError as exc:
        raise errors.file_unreadable(spec.folder, exc.strerror or str(exc)) from None
    pattern = re.compile(re.escape(spec.head) + r"(\d+)" + re.escape(spec.tail) + "$")
    numbers: dict[int, str] = {}
    for name in names:
        m = pattern.match(name)
        if m and (spec.width == 0 or len(m.group(1)) == spec.width) and os.path.isfile(
                os.path.join(spec.folder, name)):
            numbers[int(m.group(1))] = os.path.join(spec.folder, name)
    if bounds is not None:
        numbers = {n: p for n, p in numbers.items() if bounds[0] <= n <= bounds[1]}
    if not numbers:
        raise errors.sequence_empty(spec.display, "")
    if len(numbers) == 1:
        raise errors.not_a_sequence(path_or_pattern)
    first, last = min(numbers), max(numbers)
    missing = [n for n in range(first, last + 1) if n not in numbers]
    if missing:
        raise errors.frames_missing(spec.display, missing)
    if len(numbers) > MAX_FRAMES:
        raise errors.sequence_too_long(len(numbers), MAX_FRAMES)
    return spec, [(n, numbers[n]) for n in range(first, last + 1)]


def output_spec(source: Spec, folder: str | None = None,
                exists: Callable[[str], bool] = os.path.exists,
                numbers: tuple[int, ...] | list[int] = ()) -> Spec:
    """`<stem>_nb_<number>.png` in `folder` (default: the originals'), with at least four
    digits; the first of `_nb_`, `_nb2_`, ... none of whose files for `numbers` exists."""
    stem = source.head.rstrip("._- ")
    width = max(4, source.width)
    k = 1
    while True:
        tag = SUFFIX if k == 1 else f"{SUFFIX}{k}"
        head = f"{stem}{tag}_" if stem else f"{tag.lstrip('_')}_"
        spec = Spec(folder or source.folder, head, width, ".png")
        if not any(exists(spec.path(n)) for n in numbers):
            return spec
        k += 1


def plan(source: Spec, found: list[tuple[int, str]], folder: str | None = None,
         exists: Callable[[str], bool] = os.path.exists) -> Plan:
    numbers = [n for n, _p in found]
    out = output_spec(source, folder, exists, numbers)
    return Plan(tuple(Frame(n, p, out.path(n)) for n, p in found), out)


# ---------------------------------------------------------------- requests
def read_frame(frame: Frame) -> InputImage:
    """Frame k's bytes as the image to edit (read on the worker, when its request starts)."""
    try:
        data = Path(frame.source).read_bytes()
    except OSError as exc:
        raise errors.file_unreadable(frame.source, exc.strerror or str(exc)) from None
    ext = os.path.splitext(frame.source)[1].lower()
    return InputImage(data, READABLE.get(ext, "image/png"), "edit", os.path.basename(frame.source))


def reference_of(image: OutputImage) -> InputImage:
    return InputImage(image.data, image.mime_type, "reference", REFERENCE_NAME)


def frame_request(template: GenerationRequest, frame: InputImage, reference: InputImage | None,
                  index: int, count: int) -> GenerationRequest:
    """Frame `index` (1-based) of `count`: the template's settings (settled on the main
    thread from frame 1) with this frame as the image to edit; from frame 2 on, with the
    first edited frame as the last reference image and CONSISTENCY after the instruction."""
    others = [i for i in template.images if i.role != "edit"]
    if reference is None:
        return replace(template, images=[frame, *others], variations=1)
    text = template.instruction or template.prompt
    wording = CONSISTENCY.format(index=index, count=count, ref=len(others) + 1)
    return replace(template, images=[frame, *others, reference], variations=1,
                   instruction=f"{text}\n\n{wording}")


# ---------------------------------------------------------------- the run (worker thread)
def as_png(image: OutputImage) -> bytes:
    """The answer as PNG bytes: Gemini's own bytes when they are PNG, else re-encoded."""
    if image.mime_type == "image/png" or image.data[:8] == b"\x89PNG\r\n\x1a\n":
        return image.data
    import io

    from . import images
    with images._open(image.data) as im:
        buf = io.BytesIO()
        im.convert("RGBA" if "A" in im.getbands() else "RGB").save(buf, "PNG")
        return buf.getvalue()


def write_frame(path: str, image: OutputImage) -> None:
    from .history import atomic_write
    atomic_write(Path(path), as_png(image))


@dataclass
class SequenceRun:
    plan: Plan
    outcomes: dict[int, Outcome] = field(default_factory=dict)       # frame number -> outcome
    failures: dict[int, errors.NanoBananaError] = field(default_factory=dict)
    written: dict[int, str] = field(default_factory=dict)           # frame number -> file
    stage: str = ""

    @property
    def done(self) -> int:
        return len(self.written)


def run_frames(the_plan: Plan, template: GenerationRequest,
               run: Callable[[GenerationRequest, threading.Event], Outcome],
               cancel: threading.Event, state: SequenceRun | None = None,
               parallel: int = PARALLEL) -> SequenceRun:
    """Frame 1, then frames 2..N (`parallel` at a time) with frame 1's answer as their
    reference. Frame 1 failing fails the run; a later frame failing is recorded in
    `failures` and the others go on; a cancel raises Cancelled (frames written stay)."""
    out = state or SequenceRun(the_plan)
    frames = the_plan.frames
    count = len(frames)
    lock = threading.Lock()

    def one(k: int, reference: InputImage | None) -> Outcome:
        frame = frames[k]
        if cancel.is_set():
            raise errors.cancelled()
        outcome = run(frame_request(template, read_frame(frame), reference, k + 1, count), cancel)
        write_frame(frame.output, outcome.results[0].images[0])
        with lock:
            out.outcomes[frame.number] = outcome
            out.written[frame.number] = frame.output
            out.stage = f"{len(out.written)} of {count} frames"
        return outcome

    out.stage = f"frame 1 of {count}"
    first = one(0, None)
    reference = reference_of(first.results[0].images[0])

    def later(k: int) -> None:
        try:
            one(k, reference)
        except errors.Cancelled:
            pass
        except errors.NanoBananaError as exc:
            with lock:
                out.failures[frames[k].number] = exc
        except OSError as exc:          # the numbered file could not be written
            with lock:
                out.failures[frames[k].number] = errors.frame_not_written(frames[k].output, exc)

    if count > 1:
        with ThreadPoolExecutor(max_workers=max(1, min(parallel, count - 1)),
                                thread_name_prefix="nanobanana-frame") as pool:
            list(pool.map(later, range(1, count)))
    if cancel.is_set():
        raise errors.cancelled()
    return out


def merged_outcome(result: SequenceRun) -> Outcome:
    """One Outcome for the pump: every frame's results and history entries in frame order
    (cost, history), but only frame 1's image to pack: the frames are files on disk, loaded
    as one image sequence. The status notes where the frames went; failed frames are a warning."""
    from .pipeline import Outcome
    numbers = sorted(result.outcomes)
    first = result.outcomes[numbers[0]]
    merged = Outcome(first.request)
    for k, n in enumerate(numbers):
        o = result.outcomes[n]
        merged.results += o.results if k == 0 else [replace(r, images=[]) for r in o.results]
        merged.entries += o.entries[:1] if k == 0 else o.entries
        merged.warnings += [w for w in o.warnings if w not in merged.warnings]
        merged.notes += [t for t in o.notes if t not in merged.notes]
    merged.notes.append(errors.sequence_written(result.done, result.plan.output.display))
    if result.failures:
        merged.warnings.append(errors.frames_failed(sorted(result.failures),
                                                    result.failures[min(result.failures)]))
    return merged
