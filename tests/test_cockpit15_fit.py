"""What a leader reads must fit the screen (issue 15): a warning's 原因 is shown in full, and the
per-question satisfaction heatmap has a phone version whose axis carries question numbers only.

Pages rendered with AppTest through the real entry point on the published small warehouse
(tests/fixtures/small_built.py); the browser checks of the same pages at 1440×900 and 390×844 are in
tests/test_dashboard_screenshots.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app(small_served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("QINGLIAN_SERVING", str(small_served))
    monkeypatch.setenv("QINGLIAN_AUTH", "off")
    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_every_warning_reason_is_shown_in_full(app: AppTest, small_served: Path) -> None:
    at = app.switch_page("pages/p11_warnings.py").run()
    assert not at.exception, [e.message for e in at.exception]
    with duckdb.connect(str(small_served), read_only=True) as con:
        quarter, as_of = con.execute("select quarter, max(as_of) from marts.early_warnings "
                                     "group by quarter order by quarter desc limit 1").fetchone()
        reasons = sorted(r[0] for r in con.execute(
            "select reason from marts.early_warnings where quarter = ? and as_of = ?", [quarter, as_of]).fetchall())
    assert reasons and max(map(len, reasons)) > 80  # sentences that no grid column shows in one line
    # plain tables, whose cells wrap (a dataframe grid would cut the sentence at its right edge)
    shown = sorted(r for t in at.table for r in t.value["原因"])
    assert shown == reasons


def test_question_heatmap_has_a_phone_version_with_numbers_on_its_axis(app: AppTest) -> None:
    at = app.switch_page("pages/p7_satisfaction.py").run()
    assert not at.exception, [e.message for e in at.exception]
    heat = [json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart")
            if json.loads(c.proto.spec)["data"][0]["type"] == "heatmap"]
    assert len(heat) == 2
    wide, narrow = heat
    # the desktop axis names each question with its wording; the phone's with its number only
    assert [y.split(" ", 1)[0] for y in wide["y"]] == narrow["y"] == [f"Q{i + 1}" for i in range(len(wide["y"]))]
    assert all(" " in y for y in wide["y"])
    assert narrow["x"] == wide["x"] and narrow["text"] == wide["text"]
    # the wording is printed below the phone's chart
    captions = " ".join(c.value for c in at.caption)
    for y in wide["y"]:
        assert y in captions


def test_supervision_tables_pin_the_whole_body_name(app: AppTest) -> None:
    """督办: both tables (约谈 due, overdue by body) give 对象 a pinned column as wide as its longest name
    (it was sized by the grid and cut 市农业农村局 to five characters)."""
    from dashboards import ui

    at = app.switch_page("pages/p12_supervision.py").run()
    assert not at.exception, [e.message for e in at.exception]
    checked = 0
    for df in at.dataframe:
        config = json.loads(df.proto.columns)
        if "对象" not in config:
            continue
        names = list(df.value["对象"])
        assert names
        assert config["对象"].get("pinned") is True
        assert config["对象"].get("width", 0) >= ui.text_px(names, "对象")
        checked += 1
    assert checked == 2
