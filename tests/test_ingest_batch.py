"""Batch ingest (issue 16): many files parsed in one Polars pipeline and committed in few
transactions decide exactly what one file at a time decides, and keep the journal's guarantees.

- parsing a source's files together gives every file the result it gets parsed alone (the upload
  form's dry run parses one file: the two must never disagree);
- an unexpected error while parsing a batch rejects only the file that causes it;
- with commits grouped, a crash before, inside or after any group's transaction, then a re-run,
  ends in the journal of an uninterrupted run that committed file by file (file ids included).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

import ingest.parse as parse
import ingest.pipeline as pipeline
from ingest.limits import Limits
from ingest.load import connect, load_known_tasks, load_resolver
from ingest.pipeline import discover, ingest_landing
from tests import faultkit
from tests.faultkit import Crash, crash_at

QUARTER = "2025Q2"


@pytest.fixture(scope="module")
def small(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference data and a few files of every periodic source, with an identical re-send and its
    original, a correction and the file it corrects, and the planted rejected and unreadable files."""
    manifest = json.loads((demo_landing / "_demo_manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    chosen = [f["path"] for f in files if f["source"] in ("regions", "departments", "tasks")]
    duplicate = next(f for f in files if f["expected_outcome"] == "duplicate")
    chosen += [duplicate["path"], duplicate["notes"][0].removeprefix("same bytes as ")]
    corrected = next(f for f in files if f["supersedes"])
    chosen += [corrected["path"], corrected["supersedes"]]
    chosen += [f["path"] for f in files if f["expected_outcome"] == "rejected"]
    for source in ("task_progress", "units", "inspections", "surveys", "cases"):
        chosen += [f["path"] for f in files if f["source"] == source and f["path"] not in chosen][:3]
    landing = tmp_path_factory.mktemp("batch") / "landing"
    for rel in dict.fromkeys(chosen):
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(demo_landing / rel, landing / rel)
    return landing


@pytest.fixture(scope="module")
def reference(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted ingest that commits file by file."""
    warehouse = tmp_path_factory.mktemp("batch_ref") / "w.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "BATCH_MIN_FILES", 10**9)
        ingest_landing(small, warehouse, quarter=QUARTER)
    return warehouse


def _raw_columns() -> dict[str, list[str]]:
    import duckdb

    con = duckdb.connect()
    con.execute((Path(parse.__file__).parent / "schema.sql").read_text())
    rows = con.execute("select table_name, column_name from information_schema.columns where table_schema = 'raw'").fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        if column not in ("file_id", "row_number", "loaded_at"):
            out.setdefault(table, []).append(column)
    return out


RAW = _raw_columns()


def _result(p: parse.ParsedFile) -> tuple:
    """Everything the journal records of a file: a column the loader does not find is stored as NULL."""
    tables = {}
    for name, t in p.tables.items():
        columns = ["_row", *RAW[name]]
        shown = t.select(pl.col(c) if c in t.columns else pl.lit(None).alias(c) for c in columns)
        tables[name] = shown.sort("sheet", "_row", *(["question"] if "question" in columns else [])).rows()
    return (p.error, p.outcome, p.rows_read, p.rows_rejected, p.period, p.submitter, p.submitter_name, p.report_date,
            p.sheets, p.dropped_columns, p.notes, p.rejects.rows(), tables)


def test_a_batch_decides_every_file_as_it_is_decided_alone(small: Path, reference: Path) -> None:
    con = connect(reference, read_only=True)
    resolver, tasks = load_resolver(con), load_known_tasks(con)
    con.close()
    limits = Limits()
    by_source: dict[str, list[Path]] = {}
    for source, path in discover(small):
        by_source.setdefault(source, []).append(path)
    compared = 0
    for source, paths in by_source.items():
        data = [(f"{source}/{p.name}", p.read_bytes()) for p in paths]
        together = parse.parse_prepared([parse.prepare(d, rel, source, limits=limits) for rel, d in data], resolver, tasks, limits)
        for (rel, d), batch in zip(data, together, strict=True):
            alone = parse.parse_bytes(d, rel, source, resolver, tasks, limits=limits)
            assert _result(batch) == _result(alone), rel
            compared += 1
    assert compared == len(discover(small))
    outcomes = {parse.parse_bytes(p.read_bytes(), f"{s}/{p.name}", s, resolver, tasks).outcome for s, p in discover(small)}
    assert {"accepted", "accepted_with_rejects", "rejected"} <= outcomes  # the folder exercises every outcome


def test_an_unexpected_error_in_a_batch_rejects_only_the_file_that_causes_it(small: Path, reference: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    con = connect(reference, read_only=True)
    resolver, tasks = load_resolver(con), load_known_tasks(con)
    con.close()
    paths = [p for s, p in discover(small) if s == "units"][:3]
    assert len(paths) == 3
    data = [(f"units/{p.name}", p.read_bytes()) for p in paths]
    expected = [_result(parse.parse_bytes(d, rel, "units", resolver, tasks)) for rel, d in data]
    victim = data[1][0]
    real = parse._parse_batch

    def parse_batch(group, source, *args):
        if any(item.parsed.rel == victim for item in group):
            raise RuntimeError("a file nobody foresaw")
        return real(group, source, *args)

    monkeypatch.setattr(parse, "_parse_batch", parse_batch)
    results = parse.parse_prepared([parse.prepare(d, rel, "units") for rel, d in data], resolver, tasks)
    assert _result(results[0]) == expected[0] and _result(results[2]) == expected[2]
    assert results[1].outcome == "rejected" and results[1].error.startswith("文件无法解析")
    assert results[1].tables == {} and results[1].rows_loaded == 0


BOUNDARIES = (
    ("ingest.load:Journal.commit", "before"),
    ("ingest.load:Journal._supersede", "before"),  # inside the transaction, after the group's rows
    ("ingest.load:Journal.commit", "after"),
)


def test_grouped_commits_crashed_at_every_boundary_end_like_file_by_file(small: Path, reference: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH_MIN_FILES", 2)
    monkeypatch.setattr(pipeline, "COMMIT_BATCH_FILES", 3)
    commits: list[int] = []
    real_commit = pipeline.Journal.commit

    def counting(self, decisions):
        commits.append(len(decisions))
        return real_commit(self, decisions)

    warehouse = tmp_path / "w.duckdb"
    crashes = 0
    for k in range(200):
        target, when = BOUNDARIES[k % len(BOUNDARIES)]
        try:
            with crash_at(target, 1, when):
                ingest_landing(small, warehouse, quarter=QUARTER)
            break
        except Crash:
            crashes += 1
            faultkit.assert_consistent(warehouse)
    assert crashes >= len(BOUNDARIES) * 3
    assert faultkit.journal_state(warehouse) == faultkit.journal_state(reference)
    with connect(warehouse, read_only=True) as con:
        dup = con.execute("select count(*) from raw.ingest_files where outcome = 'duplicate'").fetchall()[0][0]
    assert dup >= 1
    again = tmp_path / "again.duckdb"
    monkeypatch.setattr(pipeline.Journal, "commit", counting)
    ingest_landing(small, again, quarter=QUARTER)
    assert max(commits) > 1  # the files were committed in groups
    assert faultkit.journal_state(again) == faultkit.journal_state(reference)


def test_batch_results_keep_the_reject_schema(small: Path) -> None:
    paths = [(s, p) for s, p in discover(small) if s == "units"]
    results = parse.parse_prepared([parse.prepare(p.read_bytes(), f"{s}/{p.name}", s) for s, p in paths], parse.Resolver())
    for r in results:
        assert r.rejects.schema == pl.Schema(parse.REJECT_SCHEMA)
        assert all("_fid" not in t.columns for t in r.tables.values())
        assert r.rows_read == r.rows_loaded + r.rows_rejected


def test_dry_run_reads_the_reference_data_again_after_the_warehouse_changed(small: Path, tmp_path: Path) -> None:
    """The portal's dry run keeps the reference data between uploads, but never a stale copy."""
    from ingest.pipeline import dry_run

    landing = tmp_path / "landing"
    shutil.copytree(small / "regions", landing / "regions")
    warehouse = tmp_path / "w.duckdb"
    ingest_landing(landing, warehouse)
    reports = [(p, dry_run(p.read_bytes(), p.name, "task_progress", warehouse=warehouse)) for s, p in discover(small) if s == "task_progress"]
    report, before = next((p, r) for p, r in reports if r.rows_rejected)  # a department's report
    data = report.read_bytes()
    again = dry_run(data, report.name, "task_progress", warehouse=warehouse)
    assert before.rows_rejected == again.rows_rejected > 0  # no department known: owners do not resolve
    assert any("无法识别" in r for r in before.rejects["reason"].to_list())
    shutil.copytree(small / "departments", landing / "departments")
    ingest_landing(landing, warehouse)
    after = dry_run(data, report.name, "task_progress", warehouse=warehouse)
    assert after.rows_rejected < before.rows_rejected
    assert not any("无法识别" in r for r in after.rejects["reason"].to_list())


def test_results_spilled_to_disk_load_as_if_kept_in_memory(small: Path, reference: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse results beyond the memory budget wait in Arrow files; they load exactly as kept ones,
    in groups or one by one, and leave no file behind."""
    import tempfile

    monkeypatch.setattr(pipeline, "PENDING_BUDGET_BYTES", 0)
    monkeypatch.setattr(pipeline, "SPILL_MIN_BYTES", 0)
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill_root))
    for batch_min in (2, 10**9):
        monkeypatch.setattr(pipeline, "BATCH_MIN_FILES", batch_min)
        warehouse = tmp_path / f"w{batch_min}.duckdb"
        ingest_landing(small, warehouse, quarter=QUARTER)
        assert faultkit.journal_state(warehouse) == faultkit.journal_state(reference)
    assert list(spill_root.iterdir()) == []
