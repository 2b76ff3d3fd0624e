-- One row per questionnaire with its answer counts and score sums. Sums of scores and of
-- squared scores are additive, so the index and its standard deviation can be rolled up the
-- region hierarchy without going back to the ~2M answer rows.
with responses as (
    select
        *,
        row_number() over (
            partition by wave, response_id
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__survey_responses') }}
),

latest_responses as (
    select * from responses where recency = 1
),

answers as (
    select * from {{ ref('stg_raw__survey_answers') }}
),

answer_totals as (
    -- answers belong to the questionnaire row of the same file
    select
        file_id,
        response_id,
        count(*)                                        as answers,
        count(*) filter (where is_valid)                as valid_answers,
        count(*) filter (where is_satisfied)            as satisfied_answers,
        sum(answer_score)                               as score_sum,
        sum(answer_score * answer_score)                as score_sq_sum
    from answers
    group by file_id, response_id
)

select
    r.response_id,
    r.wave,
    try_cast(left(r.wave, 4) as integer)                as wave_year,
    r.region_code,
    r.respondent_type,
    r.survey_mode,
    coalesce(t.answers, 0)                              as answers,
    coalesce(t.valid_answers, 0)                        as valid_answers,
    coalesce(t.satisfied_answers, 0)                    as satisfied_answers,
    coalesce(t.score_sum, 0)                            as score_sum,
    coalesce(t.score_sq_sum, 0)                         as score_sq_sum,
    r.file_id,
    r.sheet,
    r.row_number
from latest_responses as r
left join answer_totals as t
    on t.file_id = r.file_id
   and t.response_id = r.response_id
