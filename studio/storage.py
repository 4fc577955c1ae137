"""The `.tidepool` project file: one SQLite database (WAL mode) holding a world and its sessions.

Tables: ``meta`` (app id, format version, current branch), ``spec`` (the WorldSpec JSON),
``branches``, ``events`` (every accepted input and directed event, by branch and tick),
``snapshots`` (serialised SimStates, by branch and tick), ``edits`` (the world's edit log),
``takes`` (recorded camera moves) and ``thumbnails``.

Durability: every write runs in autocommit mode (one transaction per call, or per `batch()`),
and WAL with ``synchronous=NORMAL`` survives a killed process (only an OS crash or power loss
can drop the last transactions). Opening validates before anything can write: the SQLite header
(magic, page size, application id, format version, and the file length unless a writer's WAL is
beside the file) is read as plain bytes, then a read-only connection runs ``PRAGMA quick_check``
(linear in the file size: ~10 ms per 10 MB) and checks the schema and the spec. A damaged, truncated, foreign or newer file raises
`ProjectFileError` naming the file and the fix, and is never modified. Readers may open a file
(``readonly=True``) while a session writes it.

sqlite3 is the stdlib binding; nothing here re-implements what SQLite does.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from studio.spec import SpecError, WorldSpec

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the table layout; stored in ``PRAGMA user_version``."""
APPLICATION_ID = 0x54445031  # "TDP1"
"""Stored in ``PRAGMA application_id`` so other SQLite files are recognised as foreign."""
MAIN_BRANCH = "main"
TAKE_FIELDS = ("x", "y", "z", "yaw", "pitch", "roll", "vfov")
"""Columns of a take's per-tick camera array (metres, degrees)."""

_APP_ID_SIGNED = struct.unpack(">i", struct.pack(">I", APPLICATION_ID))[0]
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TABLES = ("meta", "spec", "branches", "events", "snapshots", "edits", "takes", "thumbnails")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE spec (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE branches (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, parent_id INTEGER REFERENCES branches(id),
    fork_tick INTEGER NOT NULL, head_tick INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, branch_id INTEGER NOT NULL REFERENCES branches(id),
    tick INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX events_by_branch ON events (branch_id, tick, id);
CREATE TABLE snapshots (
    branch_id INTEGER NOT NULL REFERENCES branches(id), tick INTEGER NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (branch_id, tick));
CREATE TABLE edits (
    id INTEGER PRIMARY KEY, branch_id INTEGER NOT NULL REFERENCES branches(id),
    tick INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX edits_by_branch ON edits (branch_id, tick, id);
CREATE TABLE takes (
    name TEXT PRIMARY KEY, branch_id INTEGER NOT NULL REFERENCES branches(id),
    start_tick INTEGER NOT NULL, end_tick INTEGER NOT NULL, cameras BLOB NOT NULL,
    created REAL NOT NULL);
CREATE TABLE thumbnails (id INTEGER PRIMARY KEY CHECK (id = 1), png BLOB NOT NULL);
"""


class ProjectFileError(RuntimeError):
    """A project file cannot be opened or read; the message names the file and the fix."""


@dataclass(frozen=True)
class BranchRow:
    """One branch: events before `fork_tick` come from `parent_id`; `head_tick` is its end."""

    id: int
    name: str
    parent_id: int | None
    fork_tick: int
    head_tick: int


@dataclass(frozen=True)
class EventRow:
    """One stored event: `body` is the event's JSON (see `studio.events`)."""

    id: int
    branch_id: int
    tick: int
    kind: str
    body: str


@dataclass(frozen=True)
class EditRow:
    """One record of the world's edit log (a prop toppled or broken, its pieces at rest)."""

    id: int
    branch_id: int
    tick: int
    kind: str
    body: str


@dataclass(frozen=True)
class TakeRow:
    """A named camera take: `cameras` (end_tick - start_tick, 7) per tick, see TAKE_FIELDS."""

    name: str
    branch_id: int
    start_tick: int
    end_tick: int
    cameras: np.ndarray  # (T, 7) float64


P = ParamSpec("P")
R = TypeVar("R")


def _sql_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn SQLite's errors on a damaged file into ProjectFileError naming the file."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (sqlite3.Error, UnicodeDecodeError) as e:
            self = args[0]
            raise ProjectFileError(
                f"{self.path}: could not {fn.__name__.replace('_', ' ')} ({e}); the file may be "
                "damaged or locked: open a backup, or close other programs using it"
            ) from None

    return wrapper


def _uri(path: Path, *, readonly: bool, immutable: bool = False) -> str:
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}" + ("?mode=ro" if readonly else "?mode=rw")
    return uri + ("&immutable=1" if immutable else "")


def _check_header(path: Path) -> None:
    """Validate the SQLite header as plain bytes (nothing is opened for writing)."""
    if not path.exists():
        raise ProjectFileError(
            f"{path}: no such file; check the path, or create a world with `tidepool new`"
        )
    if not path.is_file():
        raise ProjectFileError(f"{path}: not a file; pass the path of a .tidepool file")
    # A writer's checkpoint copies pages from the WAL into the file in page order, so page 1
    # (this header) can already count pages that are not written yet. While a -wal exists the
    # sizes below prove nothing; SQLite's locked quick_check in `open` is what decides then.
    wal = Path(f"{path}-wal")
    live = wal.exists()
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(100)
    live = live or wal.exists()
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise ProjectFileError(
            f"{path}: not a Tidepool project (or damaged): it is not an SQLite database"
            + (" (the file is shorter than an SQLite header)" if len(header) < 100 else "")
            + "; open a backup or create a new world"
        )
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise ProjectFileError(
            f"{path}: not a Tidepool project (or damaged): invalid page size {page_size}; "
            "open a backup"
        )
    change_counter, n_pages = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    if size % page_size and not live:
        raise ProjectFileError(
            f"{path}: damaged (truncated?): {size} bytes is not a whole number of "
            f"{page_size}-byte pages; open a backup"
        )
    if n_pages and change_counter == valid_for and size < n_pages * page_size and not live:
        raise ProjectFileError(
            f"{path}: truncated: {size} bytes but the header says {n_pages * page_size}; "
            "open a backup"
        )
    (user_version,) = struct.unpack(">i", header[60:64])
    (app_id,) = struct.unpack(">i", header[68:72])
    if app_id != _APP_ID_SIGNED:
        raise ProjectFileError(
            f"{path}: not a Tidepool project (or damaged): it is an SQLite database of another "
            f"application (id {app_id:#x}); open a .tidepool file"
        )
    _check_version(path, user_version)


def _check_version(path: Path, version: int) -> None:
    if version > FORMAT_VERSION:
        raise ProjectFileError(
            f"{path}: written by a newer Tidepool (format {version} > {FORMAT_VERSION}): "
            "upgrade Tidepool to open it"
        )
    if version < 1:
        raise ProjectFileError(
            f"{path}: not a Tidepool project (or damaged): format version {version} is invalid; "
            "open a backup"
        )


class ProjectFile:
    """An open `.tidepool` file. Use `create` / `open`; close it (or use `with`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool) -> None:
        self.path = path
        self.readonly = readonly
        self._conn = conn
        self._batch_depth = 0
        self._spec: WorldSpec | None = None

    # --- opening ----------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | os.PathLike, spec: WorldSpec, *, overwrite: bool = False
    ) -> ProjectFile:
        """Write a new project for `spec` with an empty "main" branch; returns it open for writing.

        The file is built under a temporary name and renamed into place, so a failure never
        leaves a half-written project at `path`.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise ProjectFileError(
                f"{path}: already exists; pick another name or pass overwrite=True (--force)"
            )
        if not path.parent.exists():
            raise ProjectFileError(f"{path}: folder {path.parent} does not exist; create it first")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            conn.execute(f"PRAGMA application_id = {_APP_ID_SIGNED}")
            conn.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN")
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            now = time.time()
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("app", "tidepool"),
                    ("format", str(FORMAT_VERSION)),
                    ("created", repr(now)),
                    ("current_branch", MAIN_BRANCH),
                ],
            )
            conn.execute("INSERT INTO spec (id, json) VALUES (1, ?)", (spec.to_json(),))
            conn.execute(
                "INSERT INTO branches (id, name, parent_id, fork_tick, head_tick, created) "
                "VALUES (1, ?, NULL, 0, 0, ?)",
                (MAIN_BRANCH, now),
            )
            conn.execute("COMMIT")
            conn.close()
            os.replace(tmp, path)
        except (sqlite3.Error, OSError) as e:
            tmp.unlink(missing_ok=True)
            raise ProjectFileError(f"{path}: could not create the project ({e})") from None
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False) -> ProjectFile:
        """Open an existing project after validating it read-only (see the module docstring)."""
        path = Path(path)
        _check_header(path)
        try:
            # No WAL beside the file means no writer: probe without creating -wal/-shm files.
            idle = not Path(f"{path}-wal").exists()
            probe = sqlite3.connect(
                _uri(path, readonly=True, immutable=idle), uri=True, isolation_level=None
            )
        except sqlite3.Error as e:
            raise ProjectFileError(
                f"{path}: cannot be opened ({e}); check its permissions"
            ) from None
        try:
            cls._validate(path, probe)
        finally:
            probe.close()
        if readonly:
            conn = sqlite3.connect(
                _uri(path, readonly=True), uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            if not os.access(path, os.W_OK):
                raise ProjectFileError(
                    f"{path}: not writable; open it read-only or copy it somewhere writable"
                )
            conn = sqlite3.connect(
                _uri(path, readonly=False), uri=True, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        pf = cls(path, conn, readonly=readonly)
        pf._spec = pf._read_spec()
        return pf

    @staticmethod
    def _validate(path: Path, conn: sqlite3.Connection) -> None:
        damaged = f"{path}: not a Tidepool project (or damaged)"
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            _check_version(path, version)
            check = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
            if check != ["ok"]:
                raise ProjectFileError(f"{damaged}: {'; '.join(check)}; open a backup")
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            missing = [t for t in _TABLES if t not in tables]
            if missing:
                raise ProjectFileError(
                    f"{damaged}: missing tables {', '.join(missing)}; open a backup"
                )
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("app") != "tidepool":
                raise ProjectFileError(f"{damaged}: meta.app is {meta.get('app')!r}; open a backup")
            if (
                conn.execute(
                    "SELECT COUNT(*) FROM branches WHERE name = ?", (MAIN_BRANCH,)
                ).fetchone()[0]
                != 1
            ):
                raise ProjectFileError(f"{damaged}: it has no main branch; open a backup")
        except (sqlite3.Error, UnicodeDecodeError) as e:
            raise ProjectFileError(f"{damaged}: {e}; open a backup") from None

    @_sql_errors
    def _read_spec(self) -> WorldSpec:
        row = self._conn.execute("SELECT json FROM spec WHERE id = 1").fetchone()
        if row is None:
            raise ProjectFileError(f"{self.path}: damaged: it holds no world spec; open a backup")
        try:
            return WorldSpec.from_json(row[0])
        except SpecError as e:
            raise ProjectFileError(
                f"{self.path}: damaged or newer spec: {e}; upgrade Tidepool or open a backup"
            ) from None

    def close(self) -> None:
        """Close the connection (writers checkpoint the WAL into the main file)."""
        if self._conn is None:
            return
        with contextlib.suppress(sqlite3.Error):
            if not self.readonly:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()
        self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> ProjectFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing helpers --------------------------------------------------------------

    def _writable(self) -> None:
        if self.readonly:
            raise ProjectFileError(f"{self.path}: opened read-only; open it with readonly=False")
        if self._conn is None:
            raise ProjectFileError(f"{self.path}: already closed; open it again")

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one transaction (committed at the end, rolled back on error)."""
        self._writable()
        if self._batch_depth == 0:
            self._conn.execute("BEGIN IMMEDIATE")
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._conn.execute("ROLLBACK")
            raise
        self._batch_depth -= 1
        if self._batch_depth == 0:
            self._conn.execute("COMMIT")

    # --- spec, meta, thumbnail --------------------------------------------------------

    @property
    def spec(self) -> WorldSpec:
        assert self._spec is not None
        return self._spec

    @_sql_errors
    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    @_sql_errors
    def set_meta(self, key: str, value: str) -> None:
        self._writable()
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @_sql_errors
    def set_thumbnail(self, png: bytes) -> None:
        self._writable()
        if not png.startswith(b"\x89PNG"):
            raise ValueError("thumbnail must be PNG bytes (they start with b'\\x89PNG')")
        self._conn.execute("INSERT OR REPLACE INTO thumbnails (id, png) VALUES (1, ?)", (png,))

    @_sql_errors
    def thumbnail(self) -> bytes | None:
        row = self._conn.execute("SELECT png FROM thumbnails WHERE id = 1").fetchone()
        return None if row is None else bytes(row[0])

    @_sql_errors
    def set_blob(self, name: str, data: bytes) -> None:
        """Store named binary data beside the spec (e.g. an image backdrop or a splat capture).

        The ``blobs`` table is created on first use, so files without one still open.
        """
        self._writable()
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL)"
        )
        self._conn.execute("INSERT OR REPLACE INTO blobs (name, data) VALUES (?, ?)", (name, data))

    @_sql_errors
    def blob(self, name: str) -> bytes | None:
        """The blob stored under `name`, or None (also for files that have no blobs table)."""
        has = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'blobs'"
        ).fetchone()
        if has is None:
            return None
        row = self._conn.execute("SELECT data FROM blobs WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    # --- branches ---------------------------------------------------------------------

    @_sql_errors
    def branches(self) -> list[BranchRow]:
        rows = self._conn.execute(
            "SELECT id, name, parent_id, fork_tick, head_tick FROM branches ORDER BY id"
        ).fetchall()
        return [BranchRow(*r) for r in rows]

    @_sql_errors
    def add_branch(self, name: str, *, parent_id: int, fork_tick: int) -> int:
        self._writable()
        try:
            cur = self._conn.execute(
                "INSERT INTO branches (name, parent_id, fork_tick, head_tick, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, parent_id, fork_tick, fork_tick, time.time()),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"branch {name!r} already exists; pick another name") from None
        return int(cur.lastrowid)

    @_sql_errors
    def set_head(self, branch_id: int, head_tick: int) -> None:
        self._writable()
        self._conn.execute(
            "UPDATE branches SET head_tick = MAX(head_tick, ?) WHERE id = ?", (head_tick, branch_id)
        )

    # --- events -----------------------------------------------------------------------

    @_sql_errors
    def append_events(
        self, branch_id: int, events: list[tuple[int, str, str]], *, head_tick: int | None = None
    ) -> None:
        """Store (tick, kind, body_json) rows on a branch, committed before returning."""
        self._writable()
        with self.batch():
            self._conn.executemany(
                "INSERT INTO events (branch_id, tick, kind, body) VALUES (?, ?, ?, ?)",
                [(branch_id, t, k, b) for t, k, b in events],
            )
            if head_tick is not None:
                self.set_head(branch_id, head_tick)

    @_sql_errors
    def events(self, branch_id: int) -> list[EventRow]:
        """A branch's own events in the order they were accepted."""
        rows = self._conn.execute(
            "SELECT id, branch_id, tick, kind, body FROM events WHERE branch_id = ? "
            "ORDER BY tick, id",
            (branch_id,),
        ).fetchall()
        return [EventRow(*r) for r in rows]

    # --- snapshots --------------------------------------------------------------------

    @_sql_errors
    def put_snapshot(self, branch_id: int, tick: int, data: bytes) -> None:
        self._writable()
        self._conn.execute(
            "INSERT OR REPLACE INTO snapshots (branch_id, tick, data) VALUES (?, ?, ?)",
            (branch_id, tick, data),
        )

    @_sql_errors
    def snapshot_ticks(self, branch_id: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT tick FROM snapshots WHERE branch_id = ? ORDER BY tick", (branch_id,)
        ).fetchall()
        return [r[0] for r in rows]

    @_sql_errors
    def snapshot_at_or_before(self, branch_id: int, tick: int) -> tuple[int, bytes] | None:
        """The latest snapshot of `branch_id` (its own, not its parent's) at tick <= `tick`."""
        row = self._conn.execute(
            "SELECT tick, data FROM snapshots WHERE branch_id = ? AND tick <= ? "
            "ORDER BY tick DESC LIMIT 1",
            (branch_id, tick),
        ).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    @_sql_errors
    def delete_snapshots(self, branch_id: int, ticks: list[int]) -> None:
        self._writable()
        self._conn.executemany(
            "DELETE FROM snapshots WHERE branch_id = ? AND tick = ?",
            [(branch_id, t) for t in ticks],
        )

    # --- edit log ---------------------------------------------------------------------

    @_sql_errors
    def append_edits(self, branch_id: int, edits: list[tuple[int, str, str]]) -> None:
        """Store (tick, kind, body_json) edit-log records on a branch."""
        self._writable()
        self._conn.executemany(
            "INSERT INTO edits (branch_id, tick, kind, body) VALUES (?, ?, ?, ?)",
            [(branch_id, t, k, b) for t, k, b in edits],
        )

    @_sql_errors
    def edits(self, branch_id: int) -> list[EditRow]:
        rows = self._conn.execute(
            "SELECT id, branch_id, tick, kind, body FROM edits WHERE branch_id = ? ORDER BY tick, id",
            (branch_id,),
        ).fetchall()
        return [EditRow(*r) for r in rows]

    # --- takes ------------------------------------------------------------------------

    @_sql_errors
    def put_take(self, take: TakeRow) -> None:
        self._writable()
        cams = np.ascontiguousarray(take.cameras, dtype="<f8")
        if cams.shape != (take.end_tick - take.start_tick, len(TAKE_FIELDS)):
            raise ValueError(
                f"take {take.name!r}: cameras shape {cams.shape} must be "
                f"({take.end_tick - take.start_tick}, {len(TAKE_FIELDS)}) for ticks "
                f"[{take.start_tick}, {take.end_tick})"
            )
        self._conn.execute(
            "INSERT OR REPLACE INTO takes (name, branch_id, start_tick, end_tick, cameras, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                take.name,
                take.branch_id,
                take.start_tick,
                take.end_tick,
                cams.tobytes(),
                time.time(),
            ),
        )

    @_sql_errors
    def takes(self) -> list[TakeRow]:
        rows = self._conn.execute(
            "SELECT name, branch_id, start_tick, end_tick, cameras FROM takes ORDER BY created, name"
        ).fetchall()
        return [self._take(r) for r in rows]

    @_sql_errors
    def take(self, name: str) -> TakeRow:
        row = self._conn.execute(
            "SELECT name, branch_id, start_tick, end_tick, cameras FROM takes WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            names = ", ".join(t.name for t in self.takes()) or "none"
            raise KeyError(f"no take named {name!r} in {self.path}; takes: {names}")
        return self._take(row)

    def _take(self, row: Any) -> TakeRow:
        name, branch_id, start, end, blob = row
        cams = np.frombuffer(blob, dtype="<f8")
        n = end - start
        if cams.size != n * len(TAKE_FIELDS):
            raise ProjectFileError(
                f"{self.path}: take {name!r} is damaged ({cams.size} values for {n} ticks); "
                "record it again"
            )
        return TakeRow(name, branch_id, start, end, cams.reshape(n, len(TAKE_FIELDS)).copy())

    # --- summary ----------------------------------------------------------------------

    @_sql_errors
    def summary(self) -> dict[str, Any]:
        """Counts for the CLI and the studio's library view."""
        c = self._conn
        return {
            "file": str(self.path),
            "format": FORMAT_VERSION,
            "branches": [b.name for b in self.branches()],
            "events": c.execute("SELECT COUNT(*) FROM events").fetchone()[0],
            "snapshots": c.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0],
            "edits": c.execute("SELECT COUNT(*) FROM edits").fetchone()[0],
            "takes": [t[0] for t in c.execute("SELECT name FROM takes ORDER BY created, name")],
            "spec": json.loads(self.spec.to_json()),
        }
