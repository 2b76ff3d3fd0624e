"""The demo's questionnaire wording has one home: the warehouse seed dbt_project/seeds/survey_questions.csv.

A different seed (three questions, rows out of order) must change the demo's survey headers and the
number of answers per respondent; a copy of the wording kept in the generator would not follow it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qinglian import questionnaire
from qinglian.demo import simulate, survey_files
from qinglian.demo.quarters import parse_quarter
from qinglian.demo.reference import build_programme


@pytest.fixture
def three_questions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    seed = tmp_path / "survey_questions.csv"
    seed.write_text("question,question_no,question_text\nQ3,3,丙题\nQ1,1,甲题\nQ2,2,乙题\n", encoding="utf-8")
    monkeypatch.setattr(questionnaire, "SURVEY_QUESTIONS_SEED", seed)
    questionnaire.questions.cache_clear()
    yield
    questionnaire.questions.cache_clear()


def test_headers_follow_the_seed_in_question_order(three_questions: None) -> None:
    assert survey_files._question_headers(0) == ["Q1.甲题", "Q2.乙题", "Q3.丙题"]
    assert survey_files._question_headers(1) == ["Q1", "Q2", "Q3"]
    assert survey_files._question_headers(2) == ["第1题", "第2题", "第3题"]


def test_answers_have_one_column_per_seed_question(three_questions: None) -> None:
    prog = build_programme("city", 42, parse_quarter("2025Q1"), 1)
    county = prog.counties[0]
    wave = simulate.simulate_survey(prog, county, 2025, simulate.COUNTY_STORY[county.code6], 0)
    assert wave.answers.shape[1] == 3 and len(wave.ids) == wave.answers.shape[0]


def test_shipped_seed_first_and_last_wording() -> None:
    questionnaire.questions.cache_clear()
    qs = questionnaire.questions()
    assert len(qs) == 10
    assert qs[0] == "对本地区党风廉政建设总体情况的评价" and qs[9] == "对清廉建设总体成效的评价"


def test_blank_survey_template_has_one_q_column_per_seed_question(three_questions: None, tmp_path: Path) -> None:
    """The office's blank template follows the same seed: three questions, columns Q1..Q3 and no Q4."""
    import openpyxl

    from ingest.templates import write_template

    out = tmp_path / "t.xlsx"
    write_template("surveys", out)
    ws = openpyxl.load_workbook(out)["填报表"]
    header = [c.value for c in ws[3] if c.value]
    assert [h for h in header if str(h).startswith("Q")] == ["Q1", "Q2", "Q3"]
