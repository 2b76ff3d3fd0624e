"""The demo generator on its own: determinism, sizes, file shapes and the manifest's honesty.

The manifest is checked against the files with openpyxl and the csv module, never with the
ingest, so these tests catch a generator bug even when the ingest has the same blind spot.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from qinglian.demo import generate

SOURCES = ("regions", "departments", "tasks", "task_progress", "units", "inspections", "surveys", "cases")
PERSONAL = {"姓名", "手机号", "身份证号"}

# What identifies one data row of a source, independently of where the header sits.
ROW_ID = {
    "units": re.compile(r"^\d{6}(JG|XX|YY|QY|GC|CJ)\d{4}$"),
    "inspections": re.compile(r"^(XC|SZ)\d{5}-"),
    "surveys": re.compile(r"^MY\d{4}-\d{6}-\d{5}$"),
    "task_progress": re.compile(r"^(\d{1,2}\.\d{1,2}|\d{6}-\d{2}|ZX\d{2})$"),
}


@pytest.fixture(scope="module")
def landing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's shared city demo when conftest provides one (generated once for all tests), else our own."""
    try:
        return request.getfixturevalue("demo_landing")
    except pytest.FixtureLookupError:
        landing = tmp_path_factory.mktemp("demo") / "landing"
        generate(landing, scale="city", seed=42, quarters=4)
        return landing


@pytest.fixture(scope="module")
def manifest(landing: Path) -> dict:
    return json.loads((landing / "_demo_manifest.json").read_text(encoding="utf-8"))


def _hashes(folder: Path) -> list[tuple[str, str]]:
    return sorted((p.relative_to(folder).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                  for p in folder.rglob("*") if p.is_file())


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return list(csv.reader(io.StringIO(raw.decode(encoding))))
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{path} is neither UTF-8 nor GBK")


def _sheets(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet as rows of cell values (CSV: one sheet named after the file stem)."""
    if path.suffix == ".csv":
        return {path.stem: _csv_rows(path)}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).replace(" ", "").strip()


def test_same_seed_gives_identical_bytes(landing: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, scale="city", seed=42, quarters=4)
    assert (again / "_demo_manifest.json").read_bytes() == (landing / "_demo_manifest.json").read_bytes()
    assert _hashes(again) == _hashes(landing)


def test_unknown_scale_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "x", scale="country")
    assert not (tmp_path / "x").exists()


def test_city_sizes_are_in_the_stated_ranges(manifest: dict) -> None:
    counts = manifest["truth"]["counts"]
    assert counts["counties"] == 11
    assert 150 <= counts["towns"] <= 220
    assert counts["villages"] >= 2_000
    assert 20 <= counts["departments"] <= 30 and counts["lead_departments"] == counts["departments"]
    assert 200 <= counts["tasks"] <= 260
    assert 5_500 <= counts["units_last_quarter"] <= 7_000
    assert 1_500 <= counts["issues"] <= 5_000 and counts["department_issues"] > 0
    assert 200 <= len(manifest["files"]) <= 300
    respondents = [w for per_wave in manifest["truth"]["survey_respondents"].values() for w in per_wave.values()]
    assert sum(1 for n in respondents if n < 30) == 1
    assert all(900 <= n <= 1_100 for n in respondents if n >= 30)
    assert manifest["truth"]["ytd_decrease"] is not None and manifest["truth"]["wrong_total"] is not None


def test_every_source_folder_is_present_and_the_manifest_lists_every_file(landing: Path, manifest: dict) -> None:
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()} - {"_demo_manifest.json"}
    assert listed == on_disk
    per_folder = Counter(p.split("/")[0] for p in listed)
    assert set(per_folder) == set(SOURCES)
    assert per_folder["task_progress"] >= 100 and per_folder["units"] >= 44 and per_folder["inspections"] >= 44


def test_data_rows_match_an_independent_count(landing: Path, manifest: dict) -> None:
    checked = Counter()
    for f in manifest["files"]:
        if f["source"] not in ROW_ID or f["expected_outcome"] != "accepted" or checked[(f["source"], f["format"])] >= 2:
            continue
        pattern = ROW_ID[f["source"]]
        found = sum(1 for rows in _sheets(landing / f["path"]).values() for row in rows
                    if any(pattern.match(_text(v)) for v in row[:2]))
        assert found == f["data_rows"], f["path"]
        checked[(f["source"], f["format"])] += 1
    assert len(checked) >= 6


def test_case_files_count_county_rows_and_carry_a_total(landing: Path, manifest: dict) -> None:
    counties = {c["name"] for c in manifest["truth"]["counties"]}
    codes = {c["code"] for c in manifest["truth"]["counties"]} | {c["code"][:6] for c in manifest["truth"]["counties"]}
    totals = 0
    for f in manifest["files"]:
        if f["source"] != "cases" or f["expected_outcome"] != "accepted":
            continue
        rows = [r for rows in _sheets(landing / f["path"]).values() for r in rows]
        found = sum(1 for r in rows if any(_text(v) in counties or _text(v) in codes for v in r[:2]))
        totals += sum(1 for r in rows if r and _text(r[0]) == "合计")
        assert found == f["data_rows"], f["path"]
    assert totals >= 2


def test_csv_files_come_in_three_encodings(landing: Path, manifest: dict) -> None:
    encodings = Counter(f["encoding"] for f in manifest["files"] if f["format"] == "csv")
    assert {"gbk", "utf-8", "utf-8-sig"} <= set(encodings)
    for f in manifest["files"]:
        if f["format"] != "csv":
            continue
        raw = (landing / f["path"]).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (f["encoding"] == "utf-8-sig"), f["path"]
        if f["encoding"] == "gbk":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")


def test_merged_two_row_headers_exist(landing: Path, manifest: dict) -> None:
    parents = set()
    for f in manifest["files"]:
        if f["format"] != "xlsx" or f["source"] not in ("cases", "inspections") or f["expected_outcome"] != "accepted":
            continue
        wb = openpyxl.load_workbook(landing / f["path"])
        for ws in wb.worksheets:
            for rng in ws.merged_cells.ranges:
                if rng.min_row == rng.max_row and rng.max_col > rng.min_col and rng.min_row > 1:
                    parents.add(_text(ws.cell(rng.min_row, rng.min_col).value))
        if {"四种形态(人次)", "整改情况"} <= parents:
            break
    assert {"四种形态(人次)", "整改情况"} <= parents


def _xlsx_strings(path: Path) -> str:
    """All text of a workbook, shared and inline strings alike, without parsing the sheets."""
    try:
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml") and ("sharedStrings" in n or "worksheets/" in n))
    except zipfile.BadZipFile:
        return ""


def test_personal_data_only_in_surveys(landing: Path, manifest: dict) -> None:
    with_personal = [f for f in manifest["files"] if f["personal_data_columns"]]
    assert with_personal and all(f["source"] == "surveys" for f in with_personal)
    for f in manifest["files"]:
        path = landing / f["path"]
        if f["format"] == "csv":
            found = {_text(v) for r in _sheets(path)[path.stem][:6] for v in r} & PERSONAL
        else:
            found = {h for h in PERSONAL if f">{h}<" in _xlsx_strings(path)}
        assert found == set(f["personal_data_columns"]), f["path"]


def test_bad_inputs_are_planted_where_the_manifest_says(landing: Path, manifest: dict) -> None:
    files = manifest["files"]
    outcomes = Counter(f["expected_outcome"] for f in files)
    assert outcomes["rejected"] == 4 and outcomes["duplicate"] == 1 and outcomes["accepted_with_rejects"] == 5
    values = set()
    for f in files:
        sheets = _sheets(landing / f["path"]) if f["bad_rows"] else {}
        for bad in f["bad_rows"]:
            row = sheets[bad["sheet"]][bad["row"] - 1]
            assert bad["value"] in {str(v) for v in row}, (f["path"], bad)
            values.add(bad["value"])
    assert {"一百二十", "市清廉局", "已创建", "2025-13-45", "幸福镇"} <= values
    duplicate = next(f for f in files if f["expected_outcome"] == "duplicate")
    original = manifest["truth"]["planted"]["duplicate"]["original"]
    assert (landing / duplicate["path"]).read_bytes() == (landing / original).read_bytes()
    corrected = [f for f in files if f["supersedes"]]
    assert len(corrected) == 1 and corrected[0]["path"].endswith("_更正.xlsx") and not corrected[0]["bad_rows"]
    superseded = next(f for f in files if f["path"] == corrected[0]["supersedes"])
    assert superseded["bad_rows"] and superseded["submitter_name"] == corrected[0]["submitter_name"]
    assert superseded["period"] == corrected[0]["period"]


def test_the_period_is_in_the_content_not_only_the_file_name(landing: Path, manifest: dict) -> None:
    """Each quarterly file states its quarter in a title, a period column or (units) an as-of date."""
    quarter_words = re.compile(r"20\d{2}(年第[一二三四]季度|Q[1-4]|年1-\d{1,2}月|年\d{1,2}-\d{1,2}月|年上半年|年全年)|截至20\d{2}年")
    for f in manifest["files"][::7]:
        if f["source"] not in ("task_progress", "inspections", "cases") or f["expected_outcome"] != "accepted":
            continue
        text = " ".join(_text(v) for rows in _sheets(landing / f["path"]).values() for r in rows for v in r)
        assert quarter_words.search(text), f["path"]


def test_factor_scales_units_and_respondents_only(tmp_path: Path, manifest: dict) -> None:
    # The benchmark's growth runs: twice the factor, twice the clean units and survey respondents
    # (up to the per-unit and per-wave random jitter), the same regions, departments and tasks.
    grown = generate(tmp_path / "x2", scale="city", quarters=manifest["quarters"], factor=2)
    base, big = manifest["truth"]["counts"], grown["truth"]["counts"]
    for same in ("regions", "departments", "tasks"):
        assert big[same] == base[same]
    assert 1.9 <= big["units_last_quarter"] / base["units_last_quarter"] <= 2.1
    assert 1.9 <= big["survey_respondents"] / base["survey_respondents"] <= 2.1
    assert grown["factor"] == 2
