"""The landing writer (names that cannot collide or escape, atomic writes) and the submissions store."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ingest.landing import scan
from ingest.landing_writer import (
    OFFICE_TZ,
    RECEIVED_NAME_RE,
    LandingWriteError,
    landing_name,
    parse_received,
    safe_component,
    write_submission,
)

WHEN = datetime(2025, 4, 9, 16, 30, 5, tzinfo=OFFICE_TZ)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


def test_generated_name_carries_submitter_period_time_and_hash(landing: Path) -> None:
    data = b"a,b\n1,2\n"
    w = write_submission(landing, "units", data, kind="csv", submitter="610723000000", period="2025Q1", received_at=WHEN)
    sha = hashlib.sha256(data).hexdigest()
    assert w.rel == f"units/610723000000_2025Q1_20250409T163005_{sha[:12]}.csv"
    assert w.path.read_bytes() == data and w.sha256 == sha and not w.existed
    assert parse_received(w.path.name) == WHEN
    # UTC input is stored as Beijing time (the deadline is a Beijing date)
    utc = datetime(2025, 4, 10, 16, 30, tzinfo=OFFICE_TZ).astimezone(datetime.now().astimezone().tzinfo)
    assert "_20250410T163000_" in landing_name("X", "2025Q1", utc, sha, "csv")


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "/abs/path", "..", ".hidden", "a/b\\c", "名称\x00x", "", None,
                                     "x" * 300, "~$lock", "C:\\Windows"])
def test_hostile_components_cannot_escape_or_hide(landing: Path, hostile: str | None) -> None:
    w = write_submission(landing, "cases", b"x,y\n", kind="csv", submitter=hostile, period=hostile, received_at=WHEN)
    assert w.path.parent == landing / "cases"
    name = w.path.name
    assert re.fullmatch(r"[0-9A-Za-z-]+_[0-9A-Za-z-]+_\d{8}T\d{6}_[0-9a-f]{12}\.csv", name), name
    assert not name.startswith((".", "_", "~"))
    assert len(safe_component(hostile, "f")) <= 40
    # the ingest sees it as an ordinary file of its source folder
    (entry,) = [e for e in scan(landing) if e.rel == w.rel]
    assert entry.kind == "file" and entry.source == "cases"


def test_unknown_source_or_kind_is_refused(landing: Path) -> None:
    with pytest.raises(LandingWriteError):
        write_submission(landing, "../units", b"x", kind="csv", submitter="A", period="2025Q1", received_at=WHEN)
    with pytest.raises(LandingWriteError):
        write_submission(landing, "units", b"x", kind="pdf", submitter="A", period="2025Q1", received_at=WHEN)
    assert list(landing.iterdir()) == []


def test_a_source_folder_that_is_a_link_is_not_followed(landing: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (landing / "units").symlink_to(outside)
    with pytest.raises(LandingWriteError, match="链接"):
        write_submission(landing, "units", b"x,y\n", kind="csv", submitter="A", period="2025Q1", received_at=WHEN)
    assert list(outside.iterdir()) == []


def test_same_name_never_overwrites(landing: Path) -> None:
    first = write_submission(landing, "units", b"one\n", kind="csv", submitter="A", period="2025Q1", received_at=WHEN)
    again = write_submission(landing, "units", b"one\n", kind="csv", submitter="A", period="2025Q1", received_at=WHEN)
    assert again.existed and again.path == first.path and first.path.read_bytes() == b"one\n"
    # a different file that (by a forced hash-prefix clash) wants the same name gets a suffix
    squatter = landing / first.rel
    squatter.write_bytes(b"someone else's\n")
    third = write_submission(landing, "units", b"one\n", kind="csv", submitter="A", period="2025Q1", received_at=WHEN)
    assert third.path.name.endswith("-2.csv") and squatter.read_bytes() == b"someone else's\n"
    assert third.path.read_bytes() == b"one\n"
    assert parse_received(third.path.name) == WHEN and re.search(RECEIVED_NAME_RE, third.path.name)
    assert not [p for p in (landing / "units").iterdir() if p.name.startswith(".")]  # no temp file left


def test_concurrent_writes_of_different_files_all_land(landing: Path) -> None:
    datas = [f"row,{i}\n".encode() * 1000 for i in range(16)]
    threads = [threading.Thread(target=write_submission, args=(landing, "cases", d),
                                kwargs={"kind": "csv", "submitter": "A", "period": "2025Q1", "received_at": WHEN})
               for d in datas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = sorted(p.read_bytes() for p in (landing / "cases").iterdir())
    assert stored == sorted(datas)


def test_a_failed_write_leaves_nothing(landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed or failing between writing the bytes and naming them: no final file, no temp file."""
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(LandingWriteError, match="写入落地文件夹失败"):
        write_submission(landing, "units", b"data\n", kind="csv", submitter="A", period="2025Q1", received_at=WHEN)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert calls["n"] == 1
    assert list((landing / "units").iterdir()) == []


def test_only_generated_names_carry_a_received_time() -> None:
    assert parse_received("2025Q1-洋县-推进台账.xlsx") is None
    assert parse_received("A_2025Q1_20250409T163005_0123456789ab.xlsx") == WHEN
    assert parse_received("A_2025Q1_20250409T163005_0123456789AB.xlsx") is None  # not our hash form


# --- the submissions store ------------------------------------------------------------------------


@pytest.fixture
def subs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    from qinglian.submissions.store import SubmissionStore

    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    return SubmissionStore()


def _upload(outcome: str, sha: str, *, unit: str = "610723000000", period: str = "2025Q1", minutes: int = 0,
            source: str = "units", rejects: list | None = None):  # noqa: ANN202
    from qinglian.submissions.store import Upload

    return Upload(received_at=WHEN + timedelta(minutes=minutes), username="tianbao", unit_code=unit, source=source,
                  original_name="台账.xlsx", size=10, sha256=sha * 64, outcome=outcome, period=period,
                  rows_read=5, rows_loaded=5 - len(rejects or []), rows_rejected=len(rejects or []),
                  rejects=rejects or [])


def test_store_supersedes_per_source_unit_and_period(subs) -> None:  # noqa: ANN001
    first = subs.add(_upload("accepted_with_rejects", "a", rejects=[{"sheet": "填报表", "row": 7, "column": "创建阶段",
                                                                    "value": "差不多", "reason": "第7行 创建阶段 '差不多' 不是可选值"}]))
    refused = subs.add(_upload("rejected", "b", minutes=1))
    other_unit = subs.add(_upload("accepted", "c", unit="610702000000", minutes=2))
    other_period = subs.add(_upload("accepted", "d", period="2025Q2", minutes=3))
    corrected = subs.add(_upload("accepted", "e", minutes=4))
    by_id = {u.id: u for u in subs.all()}
    assert by_id[first.id].superseded_by == corrected.id
    assert by_id[refused.id].superseded_by is None and not by_id[refused.id].current
    assert by_id[other_unit.id].current and by_id[other_period.id].current and by_id[corrected.id].current
    # history is the unit's own, newest first; every upload stays
    assert [u.id for u in subs.history("610723000000")] == [corrected.id, other_period.id, refused.id, first.id]
    assert [u.id for u in subs.history("610723000000", "2025Q1")] == [corrected.id, refused.id, first.id]
    # rejects come back with the upload, only for its own unit
    got = subs.get(first.id, "610723000000")
    assert got.rejects == [{"sheet": "填报表", "row": 7, "column": "创建阶段", "value": "差不多",
                            "reason": "第7行 创建阶段 '差不多' 不是可选值"}]
    assert subs.get(first.id, "610702000000") is None
    assert got.receipt_no == f"HZ20250409-{first.id:06d}"


def test_store_finds_the_loaded_original_of_a_resend(subs) -> None:  # noqa: ANN001
    subs.add(_upload("rejected", "a"))
    assert subs.loaded_original("610723000000", "a" * 64) is None  # a refused file is no original
    original = subs.add(_upload("accepted", "a", minutes=1))
    assert subs.loaded_original("610723000000", "a" * 64).id == original.id
    assert subs.loaded_original("610702000000", "a" * 64) is None  # another unit's file is not ours


def test_store_file_is_in_the_state_dir_and_private(subs, tmp_path: Path) -> None:  # noqa: ANN001
    subs.add(_upload("accepted", "a"))
    path = tmp_path / "state" / "submissions.sqlite"
    assert subs.path == path and path.exists()
    assert (path.stat().st_mode & 0o077) == 0


def test_dbt_staging_reads_the_received_time_with_the_writers_pattern() -> None:
    """The one definition of the generated name (landing_writer.RECEIVED_NAME_RE) is what the dbt staging
    matches; DuckDB's regex on a written name gives the received date."""
    import duckdb

    sql = (Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "staging" / "stg_raw__task_progress.sql").read_text()
    assert sql.count(f"'{RECEIVED_NAME_RE}'") == 2
    name = "task_progress/" + landing_name("D01", "2025Q1", WHEN, "ab" * 32, "xlsx")
    got = duckdb.execute(f"select cast(strptime(regexp_extract(?, '{RECEIVED_NAME_RE}', 1), '%Y%m%dT%H%M%S') as date), "
                         f"regexp_extract(?, '{RECEIVED_NAME_RE}', 2)", [name, name]).fetchone()
    assert got == (WHEN.date(), "ab" * 6)
