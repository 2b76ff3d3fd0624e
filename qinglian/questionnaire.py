"""The satisfaction questionnaire: its questions in order, read from the warehouse's own seed.

One home: the question heatmap labels its rows from dbt_project/seeds/survey_questions.csv, so the blank
template's Q columns and the demo's survey headers read the same file instead of a count of their own.
"""

from __future__ import annotations

import csv
import functools

from qinglian.settings import DBT_PROJECT_DIR

SURVEY_QUESTIONS_SEED = DBT_PROJECT_DIR / "seeds" / "survey_questions.csv"


@functools.lru_cache(maxsize=1)
def questions() -> tuple[str, ...]:
    """The questionnaire's wording in question order."""
    with SURVEY_QUESTIONS_SEED.open(encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["question_no"]))
    return tuple(r["question_text"] for r in rows)
