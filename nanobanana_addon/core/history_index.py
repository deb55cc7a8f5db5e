"""SQLite index of a history folder (`index.sqlite` in its root): listing newest first in
pages, word-prefix search on prompt + model, "this .blend only", totals, delete and prune
candidates in milliseconds at 50,000 entries, without reading sidecars.

Owns the index file and nothing else. The sidecars and images stay the crash-safe truth:
the index is rebuilt from them when it is missing, corrupt or of another schema, and
`sync()` brings it in line with a folder edited by hand: a day folder whose mtime changed
(a file added, removed or renamed) is re-listed; a full pass (the panel's Refresh button)
compares every sidecar's mtime and size and checks the index file's integrity.
Threads: writers (History.record in job threads, the sync thread, deletes) share one
connection behind a lock in short transactions; readers share another (WAL: a reader
never waits for a writer). Rebuilds run on a worker thread started by `refresh()`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from . import models

SCHEMA = 2                 # bump when the tables change: an index of another schema is rebuilt
FILE = "index.sqlite"
BLOBS = "blobs"
_BLOBS_KEY = "/blobs"      # the blobs folder's row in `folders` (cannot clash with a folder name)
_BATCH = 200               # sidecars parsed between writes while syncing
_TX_S = 0.004              # a sync's write transaction ends after this long (others may wait)
_TX_BUILD_S = 0.05         # ... while building a new index (fewer, larger full-text segments)
_CK_COMMITS = 256          # commits between copies of the write-ahead log into the index
_DELAY_S = 0.1             # a requested pass starts this much later: not while the panel redraws
_MAX_ROWID = 2**62
_TOKEN = re.compile(r"[^\W_]+")

_DDL = """
create table entries(
    rowid integer primary key,      -- created_ts in microseconds: newest first = rowid desc
    folder text not null, name text not null, id text not null,
    created real not null, created_text text not null,
    prompt text not null, model text not null, label text not null,
    blend_file text not null, image_file text, image_bytes integer,   -- null: no image on disk
    failed integer not null, cost real,
    sidecar_mtime integer not null, sidecar_size integer not null,
    haystack text,                  -- " word word …" for LIKE, only when SQLite has no FTS
    unique(folder, name));
create index entries_id on entries(id);
create index entries_blend on entries(blend_file);
create index entries_blend_images on entries(blend_file) where image_bytes is not null;
create table entry_blobs(entry integer not null, sha text not null);
create index entry_blobs_sha on entry_blobs(sha);
create index entry_blobs_entry on entry_blobs(entry);
create table blobs(sha text primary key, bytes integer not null);
create table folders(name text primary key, mtime_ns integer not null);
create table info(k text primary key, v text not null);
create table stats(k text primary key, v integer not null);
insert into stats values ('entries', 0), ('images', 0), ('bytes', 0);
create trigger entries_ins after insert on entries begin
    update stats set v = v + 1 where k = 'entries';
    update stats set v = v + (new.image_bytes is not null) where k = 'images';
    update stats set v = v + new.sidecar_size + coalesce(new.image_bytes, 0) where k = 'bytes';
end;
create trigger entries_del after delete on entries begin
    update stats set v = v - 1 where k = 'entries';
    update stats set v = v - (old.image_bytes is not null) where k = 'images';
    update stats set v = v - old.sidecar_size - coalesce(old.image_bytes, 0) where k = 'bytes';
    delete from entry_blobs where entry = old.rowid;
end;
create trigger entries_upd after update of image_bytes on entries begin
    update stats set v = v - (old.image_bytes is not null) + (new.image_bytes is not null)
        where k = 'images';
    update stats set v = v - coalesce(old.image_bytes, 0) + coalesce(new.image_bytes, 0)
        where k = 'bytes';
end;
"""
# Full-text search, the best this SQLite offers (Blender's own builds have FTS3 at least).
# `text`: prompt, model id and name (what the artist searches). `tags`: the filters, so that
# a search, this-file-only and images-only are answered by the full-text index alone:
# "img" when the image is on disk, "f<hash>" for the .blend. Prefix indexes of 1 to 6
# characters keep every keystroke fast: a prefix no index covers makes SQLite merge the
# lists of every word it starts (at 50,000 entries, "sto" with "stone" in most prompts:
# 3.7 ms per page query; covered, 0.7 ms), for about 1.8x the full-text index's size.
# (Schema 2; schema 1 had 1 and 2 only.)
_FTS = (("fts5", "create virtual table fts using fts5(text, tags, "
                 "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4 5 6')"),
        ("fts5", "create virtual table fts using fts5(text, tags, prefix='1 2 3 4 5 6')"),
        ("fts4", "create virtual table fts using fts4(text, tags, tokenize=unicode61, prefix='1,2,3,4,5,6')"),
        ("fts4", "create virtual table fts using fts4(text, tags, prefix='1,2,3,4,5,6')"),
        ("fts3", "create virtual table fts using fts3(text, tags)"))
COLUMNS = ("id, folder, name, created, created_text, prompt, model, blend_file, image_file, "
           "image_bytes, failed, cost")


class Row(NamedTuple):
    """What the index knows of one entry: enough to list it without its sidecar."""
    id: str
    folder: str
    name: str          # sidecar file name without .json
    created: float
    created_text: str
    prompt: str
    model: str
    blend_file: str
    image_file: str | None
    image_bytes: int | None   # None: no image on disk
    failed: bool
    cost: float | None


def _cap(offset: int, count_cap: int | None) -> int | None:
    """Where a capped search stops counting: offset + count_cap + 1 (more means "+")."""
    return None if count_cap is None else max(0, offset) + count_cap + 1


def _row(r: tuple) -> Row:
    return Row._make((*r[:10], bool(r[10]), r[11]))


class _Parsed(NamedTuple):
    values: tuple      # the entries row without rowid and haystack
    created: float
    search_text: str   # words(prompt, model id, model name), folded as words() folds a search
    blobs: frozenset[str]


def words(search: str) -> list[str]:
    """The words of a search box, as the index tokenizes them (each matches a word start):
    lower case, accents removed."""
    folded = unicodedata.normalize("NFKD", search.lower())
    return _TOKEN.findall("".join(c for c in folded if not unicodedata.combining(c)))


def matches(text: str, terms: list[str]) -> bool:
    """Whether every search term starts a word of `text` (the index's rule, without it)."""
    have = words(text)
    return all(any(w.startswith(t) for w in have) for t in terms)


def blobs_of(meta: dict[str, Any]) -> set[str]:
    """The conversation blobs (sha256 names under blobs/) a sidecar refers to."""
    return {d["blob"] for t in meta.get("conversation") or () if isinstance(t, dict)
            for d in t.get("parts") or () if isinstance(d, dict) and isinstance(d.get("blob"), str)}


def parse(folder: str, name: str, meta: Any, mtime_ns: int, size: int,
          files: dict[str, int]) -> _Parsed | None:
    """The index row of sidecar `folder/name.json`, or None if it is not an entry. `files`:
    sizes of the files next to it (an image absent from it is missing)."""
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
        return None
    try:
        created = float(meta.get("created_ts") or 0.0)
    except (TypeError, ValueError):
        created = 0.0
    if created != created or abs(created) > 1e12:     # NaN or absurd: oldest
        created = 0.0
    prompt, model = str(meta.get("prompt") or ""), str(meta.get("model") or "")
    image = meta.get("image_file")
    image = image if isinstance(image, str) and image and "/" not in image and "\\" not in image else None
    image_bytes = files.get(image) if image is not None else None
    cost = meta.get("cost_usd")
    cost = float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None
    try:
        label = models.label_of(model) if model else ""
    except Exception:  # noqa: BLE001 - an odd id in a hand-edited sidecar
        label = ""
    blobs = frozenset(blobs_of(meta))
    values = (folder, name, meta["id"], created,
              str(meta.get("created") or ""), prompt, model, label, str(meta.get("blend_file") or ""),
              image, image_bytes, int(bool(meta.get("error"))), cost, mtime_ns, size)
    return _Parsed(values, created, " ".join(words(f"{prompt} {model} {label}")), blobs)


def _listing(path: Path) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """(sidecars: name -> (mtime_ns, size), every regular file: name -> size) of one folder."""
    sidecars: dict[str, tuple[int, int]] = {}
    files: dict[str, int] = {}
    try:
        with os.scandir(path) as it:
            for de in it:
                try:
                    if not de.is_file(follow_symlinks=False):
                        continue
                    st = de.stat(follow_symlinks=False)
                except OSError:
                    continue
                files[de.name] = st.st_size
                if de.name.endswith(".json"):
                    sidecars[de.name[:-5]] = (st.st_mtime_ns, st.st_size)
    except OSError:
        pass
    return sidecars, files


def _file_tag(blend_file: str) -> str:
    return "f" + hashlib.sha1(blend_file.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _tags(image_bytes: int | None, blend_file: str) -> str:
    return ("img " if image_bytes is not None else "") + _file_tag(blend_file)


def _corrupt(exc: BaseException) -> bool:
    """A broken index (rebuild it), not a busy or unwritable one, nor our own misuse."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return False
    text = str(exc).lower()
    return not any(w in text for w in ("locked", "busy", "unable to open", "readonly", "read-only",
                                       "interrupted", "disk i/o", "full"))


def _unwritable(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("unable to open", "readonly", "read-only"))


class HistoryIndex:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.path = self.root / FILE
        self.fts = ""                      # fts5 / fts4 / fts3, or "" (LIKE)
        self.generation = 0                # bumped by every committed change (gallery cache key)
        self._w: sqlite3.Connection | None = None
        self._r: sqlite3.Connection | None = None
        self._ident: tuple[int, int] | None = None
        self._wlock = threading.RLock()    # the writer connection and its transactions
        self._rlock = threading.Lock()     # the reader connection
        self._sync_lock = threading.Lock()  # one sync at a time
        self._cond = threading.Condition()  # the worker's requests below
        self._worker: threading.Thread | None = None
        self._pending = self._pending_full = self._running = self._woken = False
        self._collect: set[str] = set()    # blobs to delete after the next pass if unused
        self._building = False             # created empty: the first full pass is filling it
        self._closed = False
        self._commits = 0                  # since the last checkpoint
        self._epoch = 0                    # bumped by every reset: a pass running then starts over

    # ---------------------------------------------------------------- connections
    def _connect(self, path: Path, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False, isolation_level=None)
        conn.execute("pragma journal_mode=wal")      # stays in rollback mode where WAL is refused
        conn.execute("pragma synchronous=normal")    # durable enough: the index is rebuildable
        # Never checkpoint on commit: a commit on the main thread (delete) would then copy
        # the log into the index. Workers do it (_checkpoint), off the main thread.
        conn.execute("pragma wal_autocheckpoint=0")
        return conn

    def _checkpoint(self, force: bool = False) -> None:
        """Copy the write-ahead log into the index every so many commits (worker and job
        threads only), on its own connection so that writers and readers go on meanwhile.
        Then write once, here: the first write after a checkpoint restarts the log, which
        costs several ms, and the next writer could be a delete on the main thread."""
        if self._w is None or (not force and self._commits < _CK_COMMITS):
            return
        self._commits = 0
        try:
            conn = sqlite3.connect(str(self.path), timeout=1.0, isolation_level=None)
            try:
                conn.execute("pragma wal_checkpoint(passive)")
            finally:
                conn.close()
            with self._wlock:
                w = self._open()
                if w is not None:
                    w.execute("insert or replace into info values ('checkpoint', ?)", (str(time.time()),))
        except sqlite3.Error:
            pass

    def _open(self) -> sqlite3.Connection | None:
        """The writer connection, opening (and if need be creating) the index. None when
        the history folder does not exist yet."""
        if self._w is not None:          # without the lock: a writer may hold it for a while
            return self._w
        with self._wlock:
            if self._w is not None:
                return self._w
            if self._closed or not self.root.is_dir():
                return None
            try:
                self._w = self._attach(self.path)
            except sqlite3.OperationalError as exc:
                if not _unwritable(exc) or self.path.parent != self.root:
                    raise
                # A read-only history folder: keep the index in the temp folder instead.
                tag = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:16]
                self.path = Path(tempfile.gettempdir()) / f"nanobanana-history-{tag}.sqlite"
                self._w = self._attach(self.path)
            try:
                st = os.stat(self.path)
                self._ident = (st.st_dev, st.st_ino)
            except OSError:
                self._ident = None
            return self._w

    def _attach(self, path: Path) -> sqlite3.Connection:
        conn = None
        try:
            conn = self._connect(path, 5.0)
            if conn.execute("pragma user_version").fetchone()[0] == SCHEMA:
                self.fts = conn.execute("select v from info where k = 'fts'").fetchone()[0]
                if self.fts:
                    conn.execute("select rowid from fts where rowid = 0").fetchall()   # module present?
                return conn
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc):
                if conn is not None:
                    conn.close()
                raise
        if conn is not None:
            conn.close()
        self._remove_files(path)
        conn = self._connect(path, 5.0)
        conn.execute("begin immediate")
        for statement in _split(_DDL):
            conn.execute(statement)
        self.fts = ""
        for kind, ddl in _FTS:
            try:
                conn.execute(ddl)
                self.fts = kind
                break
            except sqlite3.OperationalError:
                continue
        conn.execute("insert into info values ('fts', ?)", (self.fts,))
        conn.execute(f"pragma user_version = {SCHEMA}")
        conn.execute("commit")
        self._building = True
        self.generation += 1
        return conn

    @staticmethod
    def _remove_files(path: Path) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{path}{suffix}")
            except OSError:
                pass

    def _reader(self) -> sqlite3.Connection | None:
        """The reader connection; None (nothing to read yet) while there is no index file:
        creating one is the worker's job, not the main thread's."""
        if self._r is None:
            if self._w is None and not self.path.exists():
                return None
            if self._open() is None:
                return None
            self._r = self._connect(self.path, 0.2)
        return self._r

    def _reset(self) -> None:
        """Forget a broken index: close, delete, and let the next use rebuild it."""
        with self._rlock, self._wlock:
            for conn in (self._r, self._w):
                if conn is not None:
                    try:
                        conn.close()
                    except sqlite3.Error:
                        pass
            self._r = self._w = None
            self._remove_files(self.path)
            self.generation += 1
            self._epoch += 1

    def close(self) -> None:
        """Stop the worker (after its current batch) and close the connections."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(5)
        with self._rlock, self._wlock:
            for conn in (self._r, self._w):
                if conn is not None:
                    conn.close()
            self._r = self._w = None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._wlock:
            conn = self._open()
            if conn is None:
                raise FileNotFoundError(self.root)
            before = conn.total_changes
            conn.execute("begin immediate")
            try:
                yield conn
            except BaseException:
                conn.execute("rollback")
                raise
            conn.execute("commit")
            if conn.total_changes != before:
                self.generation += 1
                self._commits += 1

    def _guard(self, exc: BaseException) -> None:
        if _corrupt(exc) and not self._closed:
            self._reset()

    # ---------------------------------------------------------------- state
    @property
    def building(self) -> bool:
        """Being built from the sidecars (created empty this session, or about to be):
        listings are incomplete."""
        return self._building or (self._w is None and self.busy and not self.path.exists())

    @property
    def busy(self) -> bool:
        """A pass is asked for or running."""
        return self._pending or self._running

    # ---------------------------------------------------------------- writes
    def add(self, sidecar: Path, meta: dict[str, Any]) -> bool:
        """Index one sidecar just written by History.record. Never raises: the sidecar is the
        truth and a failed index write only means a later sync picks it up."""
        try:
            st = os.stat(sidecar)
            files = {}
            image = meta.get("image_file")
            if isinstance(image, str) and image and "/" not in image and "\\" not in image:
                try:
                    files[image] = os.stat(sidecar.with_name(image)).st_size
                except OSError:
                    pass
            parsed = parse(sidecar.parent.name, sidecar.stem, meta, st.st_mtime_ns, st.st_size, files)
            if parsed is None:
                return False
            with self._tx() as w:
                self._upsert(w, parsed)
                # The folder's mtime is left as it was: this write makes the folder look
                # changed, so a hand edit made at the same moment is never missed.
                w.execute("insert or ignore into folders values (?, -1)", (parsed.values[0],))
            self._checkpoint()                # record() runs on a job thread
            return True
        except (sqlite3.Error, OSError) as exc:
            self._guard(exc)
            return False

    def _upsert(self, w: sqlite3.Connection, parsed: _Parsed) -> None:
        folder, name = parsed.values[0], parsed.values[1]
        old = w.execute("select rowid from entries where folder = ? and name = ?", (folder, name)).fetchone()
        if old is not None:
            self._delete_rows(w, [old[0]])
        rowid = max(-_MAX_ROWID, min(_MAX_ROWID, int(parsed.created * 1e6)))
        while w.execute("select 1 from entries where rowid = ?", (rowid,)).fetchone() is not None:
            rowid += 1
        haystack = None if self.fts else " " + parsed.search_text
        w.execute("insert into entries values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (rowid, *parsed.values, haystack))
        if self.fts:
            image_bytes, blend_file = parsed.values[10], parsed.values[8]
            w.execute("insert into fts(rowid, text, tags) values (?, ?, ?)",
                      (rowid, parsed.search_text, _tags(image_bytes, blend_file)))
        if parsed.blobs:
            w.executemany("insert into entry_blobs values (?, ?)", [(rowid, sha) for sha in parsed.blobs])

    def _delete_rows(self, w: sqlite3.Connection, rowids: list[int]) -> None:
        for rowid in rowids:
            w.execute("delete from entries where rowid = ?", (rowid,))
            if self.fts:
                w.execute("delete from fts where rowid = ?", (rowid,))

    def remove(self, sidecar: Path) -> bool:
        """Forget the entry of this sidecar (deleted by History)."""
        try:
            with self._tx() as w:
                rows = w.execute("select rowid from entries where folder = ? and name = ?",
                                 (sidecar.parent.name, sidecar.stem)).fetchall()
                self._delete_rows(w, [r[0] for r in rows])
            return bool(rows)
        except (sqlite3.Error, OSError) as exc:
            self._guard(exc)
            return False

    def collect_blobs(self, shas: set[str] | None) -> None:
        """Delete these conversation blobs (None: every blob) that no indexed entry refers
        to. Call right after a sync: an entry the index does not know would lose its blob."""
        if shas is not None and not shas:
            return
        used = self.used_blobs()
        folder = self.root / BLOBS
        try:
            names = [p.name for p in folder.iterdir()] if shas is None else list(shas)
        except OSError:
            return
        gone = [n for n in names if n not in used]
        for name in gone:
            (folder / name).unlink(missing_ok=True)
        try:
            with self._tx() as w:
                w.executemany("delete from blobs where sha = ?", [(n,) for n in gone])
        except (sqlite3.Error, OSError) as exc:
            self._guard(exc)

    # ---------------------------------------------------------------- reads
    def _read(self, *queries: tuple[str, tuple]) -> list[list[tuple]]:
        """The rows of each query, all from one snapshot of the index."""
        with self._rlock:
            try:
                conn = self._reader()
                if conn is None:
                    return [[] for _ in queries]
                conn.execute("begin")
                try:
                    return [conn.execute(sql, args).fetchall() for sql, args in queries]
                finally:
                    conn.execute("commit")
            except sqlite3.Error as exc:
                failed = exc
        self._guard(failed)
        raise IndexUnavailable(str(failed))

    def _where(self, search: str, blend_file: str | None, with_images_only: bool) -> tuple[str, str, tuple]:
        """(from clause, where clause, args) for a listing query. A search goes through the
        full-text index, filters included; without one, through `haystack` (LIKE)."""
        clauses, args, source = [], [], "entries"
        terms = words(search)
        if terms and self.fts:
            five = self.fts == "fts5"
            match = [f'text : "{t}"*' if five else f"text:{t}*" for t in terms]
            if with_images_only:
                match.append("tags : img" if five else "tags:img")
            if blend_file is not None:
                match.append(f"tags : {_file_tag(blend_file)}" if five else f"tags:{_file_tag(blend_file)}")
            return "fts join entries on entries.rowid = fts.rowid", " where fts match ?", (
                " AND ".join(match) if five else " ".join(match),)
        for t in terms:            # words of the haystack are space-separated: "% moss%" starts one
            clauses.append("haystack like ? escape '\\'")
            args.append("% " + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if blend_file is not None:
            clauses.append("blend_file = ?")
            args.append(blend_file)
        if with_images_only:
            clauses.append("image_bytes is not null")
        return source, (" where " + " and ".join(clauses)) if clauses else "", tuple(args)

    def _page_sql(self, search: str, blend_file: str | None, with_images_only: bool,
                  offset: int, limit: int | None) -> tuple[str, tuple]:
        source, where, args = self._where(search, blend_file, with_images_only)
        cols = ", ".join(f"entries.{c.strip()}" for c in COLUMNS.split(","))
        order = "fts.rowid" if source.startswith("fts") else "entries.rowid"   # let FTS walk backwards
        sql = f"select {cols} from {source}{where} order by {order} desc"
        if limit is not None:
            sql += f" limit {int(limit)} offset {max(0, int(offset))}"
        return sql, args

    def _count_sql(self, search: str, blend_file: str | None, with_images_only: bool,
                   cap: int | None) -> tuple[str, tuple]:
        if not words(search) and blend_file is None:
            return "select v from stats where k = ?", ("images" if with_images_only else "entries",)
        source, where, args = self._where(search, blend_file, with_images_only)
        if source.startswith("fts"):
            source = "fts"                 # the filters are in the match: no join to count
        if cap is None or not words(search):
            return f"select count(*) from {source}{where}", args
        return f"select count(*) from (select 1 from {source}{where} limit {int(cap)})", args

    def listing(self, *, search: str = "", blend_file: str | None = None, with_images_only: bool = False,
                offset: int = 0, limit: int | None = None, count_cap: int | None = None) -> tuple[list[Row], int]:
        """(entries newest first, `limit` of them from `offset`; how many match in all), both
        from the same moment. With `count_cap`, a search stops counting at offset + count_cap
        + 1 matches (a count that large means "more than that"): counting every match of a
        one-letter search would cost more than a keystroke may."""
        rows, count = self._read(self._page_sql(search, blend_file, with_images_only, offset, limit),
                                 self._count_sql(search, blend_file, with_images_only, _cap(offset, count_cap)))
        return [_row(r) for r in rows], int(count[0][0]) if count else 0

    def count(self, *, search: str = "", blend_file: str | None = None, with_images_only: bool = False,
              offset: int = 0, count_cap: int | None = None) -> int:
        """listing()'s count alone, counted the same way: for a caller that shows the page
        in one frame and the count in the next."""
        (count,) = self._read(self._count_sql(search, blend_file, with_images_only, _cap(offset, count_cap)))
        return int(count[0][0]) if count else 0

    def page(self, *, search: str = "", blend_file: str | None = None, with_images_only: bool = False,
             offset: int = 0, limit: int | None = None) -> list[Row]:
        """Entries newest first, `limit` of them from `offset` (all when limit is None)."""
        (rows,) = self._read(self._page_sql(search, blend_file, with_images_only, offset, limit))
        return [_row(r) for r in rows]

    def totals(self) -> tuple[int, int]:
        """(entries, bytes of their sidecars + images + conversation blobs)."""
        stats, blobs = self._read(("select k, v from stats", ()),
                                  ("select coalesce(sum(bytes), 0) from blobs", ()))
        got = dict(stats)
        return int(got.get("entries", 0)), int(got.get("bytes", 0)) + int(blobs[0][0] if blobs else 0)

    def oldest_until(self, total: int, max_bytes: int) -> list[Row]:
        """The oldest entries whose removal brings `total` bytes under `max_bytes`."""
        out: list[Row] = []
        if total <= max_bytes:
            return out
        with self._rlock:
            try:
                conn = self._reader()
                if conn is None:
                    return out
                cur = conn.execute(f"select {COLUMNS}, sidecar_size from entries order by rowid asc")
                for r in cur:
                    out.append(_row(r))
                    total -= r[12] + (r[9] or 0)
                    if total <= max_bytes:
                        break
                cur.close()
                return out
            except sqlite3.Error as exc:
                failed = exc
        self._guard(failed)
        raise IndexUnavailable(str(failed))

    def blob_in_use(self, sha: str) -> bool:
        return bool(self._read(("select 1 from entry_blobs where sha = ? limit 1", (sha,)))[0])

    def used_blobs(self) -> set[str]:
        return {r[0] for r in self._read(("select distinct sha from entry_blobs", ()))[0]}

    # ---------------------------------------------------------------- keeping up with the folder
    def refresh(self, *, full: bool = False, collect: set[str] | frozenset[str] = frozenset(),
                wake: bool = True) -> None:
        """Bring the index up to date on a worker thread; returns at once. Calls made while
        a pass runs collapse into one more pass. `collect`: conversation blobs to delete
        after that pass unless an entry still refers to them. wake=False only asks: the
        pass starts at the next wake() (the panel wakes from a timer tick, because waking a
        thread hands it the interpreter lock for a moment)."""
        with self._cond:
            if self._closed:
                return
            self._collect |= set(collect)
            self._pending_full = self._pending_full or full
            self._pending = True
        if wake:
            self.wake()

    def wake(self) -> None:
        """Start the pass asked for, if any."""
        with self._cond:
            if self._closed or not self._pending or self._woken:
                return
            self._woken = True
            self._cond.notify()
            if self._worker is None:         # started once, then woken: no thread start per action
                self._worker = threading.Thread(target=self._work, name="nanobanana-history-index",
                                                daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._woken and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
            # Wait a little: the pass (Python work holding the interpreter lock) then runs after
            # the redraw that follows the action which asked for it; a burst becomes one pass.
            time.sleep(_DELAY_S)
            with self._cond:
                if self._closed:
                    return
                full, collect = self._pending_full, self._collect
                self._pending = self._pending_full = self._woken = False
                self._collect = set()
                self._running = True
            try:
                self.sync(full=full)
                self.collect_blobs(collect)
            except Exception:  # noqa: BLE001 - a worker must not die loudly; the next pass retries
                import traceback
                traceback.print_exc()
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def ensure_current(self) -> None:
        """Blocking: a quick pass now (after any pass already running)."""
        self.sync()

    def sync(self, *, full: bool = False) -> bool:
        """Bring the index in line with the folder; returns whether anything changed. A quick
        pass re-lists only folders whose mtime differs from the recorded one; a full pass
        compares every sidecar's mtime and size and checks the index file's integrity.
        A quick pass is cheap (one stat per day folder, plus the changed folders) and
        mostly releases the interpreter; a full pass or a rebuild is Python-heavy."""
        with self._sync_lock:
            for attempt in range(3):
                epoch = self._epoch
                try:
                    changed = self._sync(full)
                except sqlite3.Error as exc:
                    self._guard(exc)
                    if not _corrupt(exc) or attempt == 2:
                        raise
                    continue               # reset: rebuild from the sidecars
                if self._epoch == epoch or self._closed:
                    return changed
                # The index was found broken and reset while this pass ran: start over.
            return True

    def _sync(self, full: bool) -> bool:
        gen = self.generation
        if self._w is not None and (not self.root.is_dir() or self._replaced()):
            self._reset()            # the folder (and the index in it) was removed by hand
        if self._open() is None:
            return False
        if full and not self._building:
            self._check_integrity()
        disk: dict[str, int] = {}
        blobs_mtime = None
        with os.scandir(self.root) as it:
            for de in it:
                try:
                    if not de.is_dir(follow_symlinks=False):
                        continue
                    mtime = de.stat(follow_symlinks=False).st_mtime_ns
                except OSError:
                    continue
                if de.name == BLOBS:
                    blobs_mtime = mtime
                else:
                    disk[de.name] = mtime
        with self._wlock:
            known = dict(self._open().execute("select name, mtime_ns from folders").fetchall())  # type: ignore[union-attr]
        for folder in sorted(set(known) - set(disk) - {_BLOBS_KEY}):
            with self._tx() as w:
                self._delete_rows(w, [r[0] for r in w.execute("select rowid from entries where folder = ?",
                                                              (folder,))])
                w.execute("delete from folders where name = ?", (folder,))
        for folder in sorted(disk, reverse=True):        # newest days first: shown first
            if full or known.get(folder) != disk[folder]:
                self._sync_folder(folder, disk[folder])
                self._checkpoint()
                if self._closed:
                    return self.generation != gen
        if full or known.get(_BLOBS_KEY) != blobs_mtime:
            self._sync_blobs(blobs_mtime)
        if self.generation - gen > 4:          # many transactions: tidy the full-text index
            self._merge()
            self._checkpoint(force=True)
        self._checkpoint()
        if self._building:
            self._building = False
            self.generation += 1
        return self.generation != gen

    def _merge(self) -> None:
        """Merge the full-text index's segments in short steps. A rebuild leaves many; left
        alone, SQLite merges them bit by bit inside later transactions, a delete on the main
        thread among them (several ms each, for a while)."""
        step = {"fts5": "insert into fts(fts, rank) values ('merge', 200)",
                "fts4": "insert into fts(fts) values ('merge=200,8')"}.get(self.fts)
        if step is None:
            return
        for _ in range(10000):
            if self._closed:
                return
            with self._wlock:
                w = self._open()
                if w is None:
                    return
                before = w.total_changes
                w.execute(step)                  # autocommit: one short transaction
                if w.total_changes - before < 2:      # SQLite's "nothing left to merge"
                    return
            time.sleep(0)

    def _replaced(self) -> bool:
        """The index file was deleted or replaced under us (the folder was removed by hand)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return True
        return self._ident is not None and (st.st_dev, st.st_ino) != self._ident

    def _check_integrity(self) -> None:
        conn = self._connect(self.path, 5.0)
        try:
            ok = conn.execute("pragma quick_check").fetchone()
        finally:
            conn.close()
        if not ok or ok[0] != "ok":
            raise sqlite3.DatabaseError(f"index damaged: {ok}")

    def _sync_folder(self, folder: str, mtime_ns: int) -> None:
        path = self.root / folder
        sidecars, files = _listing(path)
        with self._wlock:
            known = {r[0]: r[1:] for r in self._open().execute(  # type: ignore[union-attr]
                "select name, sidecar_mtime, sidecar_size, image_file, image_bytes, rowid "
                "from entries where folder = ?", (folder,))}
        todo: list[_Parsed] = []
        drop: list[str] = []           # sidecars that are no longer entries
        image_fixes: list[tuple[int | None, int]] = []
        for name, (mtime, size) in sidecars.items():
            old = known.get(name)
            if old is not None and old[0] == mtime and old[1] == size:
                if old[2] is not None and files.get(old[2]) != old[3]:
                    image_fixes.append((files.get(old[2]), old[4]))
                continue
            try:
                with open(path / f"{name}.json", "rb") as fh:
                    meta = json.loads(fh.read())
            except (OSError, ValueError):
                meta = None
            parsed = parse(folder, name, meta, mtime, size, files)
            if parsed is not None:
                todo.append(parsed)
            elif old is not None:
                drop.append(name)
            if len(todo) >= _BATCH:
                self._apply(folder, todo, [], [], [])
                todo = []
                time.sleep(0)          # let the main thread have the interpreter
            if self._closed:
                return
        vanished = [old[4] for name, old in known.items() if name not in sidecars]
        self._apply(folder, todo, drop, image_fixes, vanished, mtime_ns)

    def _apply(self, folder: str, todo: list[_Parsed], drop: list[str],
               image_fixes: list[tuple[int | None, int]], vanished: list[int],
               mtime_ns: int | None = None) -> None:
        done = 0
        while len(todo) - done > 0:          # short transactions: record() and delete() never wait long
            with self._tx() as w:
                began = time.perf_counter()
                budget = _TX_BUILD_S if self._building else _TX_S
                while done < len(todo) and time.perf_counter() - began < budget:
                    self._upsert(w, todo[done])
                    done += 1
            time.sleep(0)
        with self._tx() as w:
            for name in drop:
                rows = w.execute("select rowid from entries where folder = ? and name = ?",
                                 (folder, name)).fetchall()
                self._delete_rows(w, [r[0] for r in rows])
            w.executemany("update entries set image_bytes = ? where rowid = ?", image_fixes)
            if self.fts:
                for _, rowid in image_fixes:
                    r = w.execute("select prompt, model, label, blend_file, image_bytes from entries "
                                  "where rowid = ?", (rowid,)).fetchone()
                    w.execute("delete from fts where rowid = ?", (rowid,))
                    w.execute("insert into fts(rowid, text, tags) values (?, ?, ?)",
                              (rowid, " ".join(words(f"{r[0]} {r[1]} {r[2]}")), _tags(r[4], r[3])))
            gone = []
            for rowid in vanished:
                r = w.execute("select name from entries where rowid = ?", (rowid,)).fetchone()
                # Written by History.record since the folder was listed: still there.
                if r is not None and not (self.root / folder / f"{r[0]}.json").exists():
                    gone.append(rowid)
            self._delete_rows(w, gone)
            if mtime_ns is not None:
                w.execute("insert or replace into folders values (?, ?)", (folder, mtime_ns))

    def _sync_blobs(self, mtime_ns: int | None) -> None:
        _, files = _listing(self.root / BLOBS) if mtime_ns is not None else ({}, {})
        with self._tx() as w:
            w.execute("delete from blobs")
            w.executemany("insert into blobs values (?, ?)", files.items())
            if mtime_ns is None:
                w.execute("delete from folders where name = ?", (_BLOBS_KEY,))
            else:
                w.execute("insert or replace into folders values (?, ?)", (_BLOBS_KEY, mtime_ns))


class IndexUnavailable(Exception):
    """The index could not answer (busy elsewhere, or found broken and reset for a rebuild)."""


def _split(script: str) -> list[str]:
    """Statements of a DDL script (triggers hold ';' inside begin ... end)."""
    out, buf = [], ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return out


_REGISTRY: dict[str, HistoryIndex] = {}
_REGISTRY_LOCK = threading.Lock()


def for_root(root: str | os.PathLike[str]) -> HistoryIndex:
    """The one index of this history folder in this process (shared by every History)."""
    key = os.path.abspath(root)
    with _REGISTRY_LOCK:
        index = _REGISTRY.get(key)
        if index is None or index._closed:
            index = _REGISTRY[key] = HistoryIndex(key)
        return index


def close_all() -> None:
    """Stop workers and close every index (add-on disabled)."""
    with _REGISTRY_LOCK:
        indexes = list(_REGISTRY.values())
        _REGISTRY.clear()
    for index in indexes:
        index.close()
