"""The .tidepool file: round trips, concurrent readers, and damaged files that never get modified."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.spec import CharacterSpec, WorldSpec
from studio.storage import FORMAT_VERSION, ProjectFile, ProjectFileError, TakeRow


def _spec() -> WorldSpec:
    return WorldSpec(
        prompt="a quiet meadow", seed=7, characters=[CharacterSpec(kind="deer", count=3)]
    )


@pytest.fixture(scope="module")
def sample_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real project with a branch, events, snapshots, edits, a take and a thumbnail."""
    path = tmp_path_factory.mktemp("sample") / "w.tidepool"
    with ProjectFile.create(path, _spec()) as pf:
        pf.append_events(
            1, [(t, "input", f'{{"tick": {t}}}') for t in range(0, 300, 7)], head_tick=300
        )
        alt = pf.add_branch("alt", parent_id=1, fork_tick=120)
        pf.append_events(alt, [(130, "mode", '{"move": "fly"}')], head_tick=200)
        for t in range(0, 300, 60):
            pf.put_snapshot(1, t, bytes(range(256)) * 8)
        pf.append_edits(1, [(90, "break", '{"prop": "crate@1,2"}')])
        pf.put_take(TakeRow("shot1", 1, 10, 20, np.arange(70, dtype=float).reshape(10, 7)))
        pf.set_thumbnail(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    return path.read_bytes()


def test_round_trip(tmp_path, sample_bytes) -> None:
    path = tmp_path / "w.tidepool"
    path.write_bytes(sample_bytes)
    with ProjectFile.open(path, readonly=True) as pf:
        assert pf.spec == _spec()
        branches = {b.name: b for b in pf.branches()}
        assert branches["alt"].parent_id == branches["main"].id
        assert branches["alt"].fork_tick == 120 and branches["alt"].head_tick == 200
        assert branches["main"].head_tick == 300
        assert [e.tick for e in pf.events(1)] == list(range(0, 300, 7))
        assert [e.kind for e in pf.events(branches["alt"].id)] == ["mode"]
        assert pf.snapshot_at_or_before(1, 179)[0] == 120
        assert pf.snapshot_at_or_before(1, 180) == (180, bytes(range(256)) * 8)
        assert pf.snapshot_at_or_before(branches["alt"].id, 500) is None
        take = pf.take("shot1")
        np.testing.assert_array_equal(take.cameras, np.arange(70, dtype=float).reshape(10, 7))
        assert pf.thumbnail().startswith(b"\x89PNG")
        assert pf.edits(1)[0].kind == "break"
        with pytest.raises(ProjectFileError, match="read-only"):
            pf.append_events(1, [(400, "input", "{}")])


def test_create_refuses_to_overwrite(tmp_path) -> None:
    path = tmp_path / "w.tidepool"
    ProjectFile.create(path, _spec()).close()
    with pytest.raises(ProjectFileError, match="already exists"):
        ProjectFile.create(path, _spec())


def test_reader_sees_committed_events_while_a_writer_is_open(tmp_path) -> None:
    path = tmp_path / "w.tidepool"
    writer = ProjectFile.create(path, _spec())
    writer.append_events(1, [(3, "input", "{}")], head_tick=3)
    reader = ProjectFile.open(path, readonly=True)
    assert [e.tick for e in reader.events(1)] == [3]
    writer.append_events(1, [(9, "input", "{}")], head_tick=9)
    assert [e.tick for e in reader.events(1)] == [3, 9]
    reader.close()
    writer.close()


def test_opening_during_a_writers_checkpoint_is_not_mistaken_for_truncation(tmp_path) -> None:
    """A checkpoint copies WAL pages into the file in page order: page 1 (whose header counts
    the pages) lands before the pages that grow the file. A file caught in that state, with its
    WAL beside it, is whole and must open; the same bytes without a WAL are truncated."""
    path = tmp_path / "w.tidepool"
    ProjectFile.create(path, _spec()).close()
    writer = sqlite3.connect(path, isolation_level=None)  # a plain SQLite writer, not ours
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # keep every new page in the WAL
    for t in range(40):
        writer.execute("INSERT INTO snapshots VALUES (1, ?, ?)", (t, bytes([t]) * 8192))
    wal = Path(f"{path}-wal").read_bytes()
    (page_size,) = struct.unpack(">I", wal[8:12])
    frames = [32 + i * (24 + page_size) for i in range((len(wal) - 32) // (24 + page_size))]
    page1 = [f for f in frames if struct.unpack(">I", wal[f : f + 4])[0] == 1][-1]
    with path.open("r+b") as f:  # the checkpoint's first write
        f.write(wal[page1 + 24 : page1 + 24 + page_size])
    (n_pages,) = struct.unpack(">I", path.read_bytes()[28:32])
    assert n_pages * page_size > path.stat().st_size
    alone = tmp_path / "alone.tidepool"
    alone.write_bytes(path.read_bytes())
    _expect_clean_failure(alone, "truncated")
    with ProjectFile.open(path, readonly=True) as pf:
        assert pf.snapshot_ticks(1) == list(range(40))
    writer.close()  # the last connection finishes the checkpoint
    with ProjectFile.open(path, readonly=True) as pf:
        assert pf.snapshot_at_or_before(1, 39) == (39, bytes([39]) * 8192)


def _expect_clean_failure(path, match: str) -> None:
    before = path.read_bytes()
    for readonly in (True, False):
        with pytest.raises(ProjectFileError, match=match):
            ProjectFile.open(path, readonly=readonly)
        assert path.read_bytes() == before


def test_newer_format_is_refused_untouched(tmp_path, sample_bytes) -> None:
    path = tmp_path / "new.tidepool"
    data = bytearray(sample_bytes)
    data[60:64] = struct.pack(">i", FORMAT_VERSION + 2)
    path.write_bytes(bytes(data))
    _expect_clean_failure(
        path, rf"newer Tidepool \(format {FORMAT_VERSION + 2} > {FORMAT_VERSION}\)"
    )


def test_truncated_and_foreign_files_are_refused(tmp_path, sample_bytes) -> None:
    path = tmp_path / "t.tidepool"
    path.write_bytes(sample_bytes[: len(sample_bytes) // 2])
    _expect_clean_failure(path, "truncated")
    path.write_bytes(b"hello, not a database\n" * 10)
    _expect_clean_failure(path, "not a Tidepool project")
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    _expect_clean_failure(other, "another application")
    with pytest.raises(ProjectFileError, match="no such file"):
        ProjectFile.open(tmp_path / "missing.tidepool")
    assert not (tmp_path / "missing.tidepool").exists()


def _read_everything(pf: ProjectFile) -> None:
    for b in pf.branches():
        pf.events(b.id)
        pf.edits(b.id)
        pf.snapshot_at_or_before(b.id, 10**9)
    pf.takes()
    pf.thumbnail()
    pf.summary()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 2**31), st.integers(1, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 2**31)),
)
def test_damaged_files_fail_clearly_and_stay_unmodified(tmp_path, sample_bytes, flips, cut) -> None:
    data = bytearray(sample_bytes)
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    if cut is not None:
        data = data[: cut % len(data)]
    path = tmp_path / "damaged.tidepool"
    path.write_bytes(bytes(data))
    for sidecar in (tmp_path / "damaged.tidepool-wal", tmp_path / "damaged.tidepool-shm"):
        sidecar.unlink(missing_ok=True)
    try:
        pf = ProjectFile.open(path, readonly=True)
    except ProjectFileError as e:
        assert str(path) in str(e)
    else:  # the flips hit bytes SQLite never reads: everything must still read, or fail clearly
        try:
            _read_everything(pf)
        except ProjectFileError:
            pass
        finally:
            pf.close()
    assert path.read_bytes() == bytes(data)
