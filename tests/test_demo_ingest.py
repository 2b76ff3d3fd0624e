"""End to end: the generated city demo through the ingest, checked against the generator's manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from ingest.contracts import PERSONAL_DATA_HEADERS
from ingest.pipeline import ingest_landing


def _manifest(landing: Path) -> dict:
    return json.loads((landing / "_demo_manifest.json").read_text(encoding="utf-8"))


def test_every_demo_file_has_its_expected_outcome(demo_landing: Path, demo_ingested) -> None:
    warehouse, _ = demo_ingested
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = {p: (o, r) for p, o, r in con.execute("select path, outcome, rows_read from raw.ingest_files").fetchall()}
    manifest = _manifest(demo_landing)
    for f in manifest["files"]:
        assert f["path"] in got, f"{f['path']} missing from raw.ingest_files"
        outcome, rows_read = got[f["path"]]
        assert outcome == f["expected_outcome"], (f["path"], outcome, f["expected_outcome"])
        if outcome in ("accepted", "accepted_with_rejects"):
            assert rows_read == f["data_rows"], (f["path"], rows_read, f["data_rows"])
    assert len(got) == len(manifest["files"])


def test_row_identity_and_rejects_match_the_planted_bad_rows(demo_landing: Path, demo_ingested) -> None:
    warehouse, _ = demo_ingested
    with duckdb.connect(str(warehouse), read_only=True) as con:
        broken = con.execute("select path from raw.ingest_files where rows_read <> rows_loaded + rows_rejected").fetchall()
        rejects = set(con.execute('select file, sheet, "row", "column" from raw.ingest_rejects where "row" is not null').fetchall())
    assert broken == []
    for f in _manifest(demo_landing)["files"]:
        for bad in f.get("bad_rows", []):
            assert (f["path"], bad["sheet"], bad["row"], bad["column"]) in rejects, (f["path"], bad)


def test_no_personal_data_reaches_the_warehouse(demo_ingested) -> None:
    warehouse, _ = demo_ingested
    phone = re.compile(r"^1[3-9]\d{9}$")
    id_number = re.compile(r"^\d{17}[\dXx]$")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute("select table_name, column_name, data_type from information_schema.columns where table_schema = 'raw'").fetchall()
        assert not [c for c in columns if c[1] in PERSONAL_DATA_HEADERS]
        for table, column, dtype in columns:
            if dtype != "VARCHAR":
                continue
            values = [v for (v,) in con.execute(f'select distinct "{column}" from raw.{table} where "{column}" is not null limit 5000').fetchall()]
            assert not [v for v in values if phone.match(v) or id_number.match(v)], (table, column)
        dropped = con.execute("select count(*) from raw.ingest_files where source = 'surveys' and dropped_columns is not null").fetchone()[0]
    assert dropped > 0


def test_reingesting_the_same_folder_changes_nothing(demo_landing: Path, demo_ingested, tmp_path: Path) -> None:
    warehouse, _ = demo_ingested
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    counts = "select (select count(*) from raw.ingest_files), (select count(*) from raw.units), (select count(*) from raw.survey_answers)"
    with duckdb.connect(str(copy), read_only=True) as con:
        before = con.execute(counts).fetchone()
    again = ingest_landing(demo_landing, copy)
    assert {f.outcome for f in again.files if f.rel != "_demo_manifest.json"} == {"unchanged"}
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute(counts).fetchone() == before
