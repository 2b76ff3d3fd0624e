"""约谈记录: kept in the state directory (never the serving copy), append-only, audited, and only
the office's analysts may enter one."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from dashboards import talks
from qinglian.security import audit, store
from qinglian.security.scope import Scope

ANALYST = Scope("analyst", "分析员", "analyst")
LEADER = Scope("leader", "领导", "leadership")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def _talk(outcome: str = "主要负责人表态，限期一个月整改", held: date | None = None) -> talks.Talk:
    return talks.Talk("2025Q4", "county", "610727000000", "略阳县", held or date(2026, 1, 8), outcome)


def test_record_is_kept_in_the_state_dir_and_audited(state: Path) -> None:
    tid = talks.record(ANALYST, _talk())
    assert tid == 1 and (state / talks.TALKS_DB).exists()
    df = talks.records("2025Q4")
    assert list(df.body_name) == ["略阳县"] and df.held_on[0] == "2026-01-08" and df.entered_by[0] == "analyst"
    entry = audit.log().read(events=("talk_record",))[0]
    assert entry.detail["body_code"] == "610727000000" and entry.detail["held_on"] == "2026-01-08"
    # a county user sees their own records only
    assert talks.records(county="610723000000").empty


def test_records_cannot_be_changed(state: Path) -> None:
    talks.record(ANALYST, _talk())
    with store.connect(store.path(talks.TALKS_DB)) as con, pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE talks SET outcome = 'x'")
    with store.connect(store.path(talks.TALKS_DB)) as con, pytest.raises(sqlite3.IntegrityError):
        con.execute("DELETE FROM talks")


def test_only_analysts_and_valid_records(state: Path) -> None:
    with pytest.raises(talks.TalkError, match="分析员"):
        talks.record(LEADER, _talk())
    with pytest.raises(talks.TalkError, match="约谈结果"):
        talks.record(ANALYST, _talk("   "))
    with pytest.raises(talks.TalkError, match="晚于今天"):
        talks.record(ANALYST, _talk(held=date.today() + timedelta(days=3)))
    assert talks.records().empty
