-- The survey's questions (题目) by number, from the office's questionnaire (seeds/survey_questions.csv):
-- kpi_satisfaction_questions has the number only (a submitted file's header is Q1, 第1题 or Q1.<text>).
select
    question,
    question_no,
    question_text
from {{ ref('survey_questions') }}
