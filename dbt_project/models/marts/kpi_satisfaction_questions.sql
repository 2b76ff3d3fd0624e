-- Satisfaction per region, survey wave and question (题目), with the same formulas as
-- kpi_satisfaction (DESIGN §4) applied to one question's answers: it shows which aspect of the
-- clean-governance work the public rates low. Here every valid answer is one respondent, so
-- the intervals are per respondent. Questions are numbered Q1..Qn as in the survey template.
{%- set z = var('ci_z') %}

with answers as (
    -- only the answers of the questionnaire rows kpi_satisfaction counts (latest submission)
    select
        responses.region_code,
        responses.wave,
        responses.wave_year,
        answers.question,
        answers.is_valid,
        answers.is_satisfied,
        answers.answer_score
    from {{ ref('int_survey__responses') }} as responses
    inner join {{ ref('stg_raw__survey_answers') }} as answers
        on answers.file_id = responses.file_id
       and answers.response_id = responses.response_id
),

per_region as (
    select
        region_code,
        wave,
        wave_year,
        question,
        count(*)                                    as answers,
        count(*) filter (where is_valid)            as valid_answers,
        count(*) filter (where is_satisfied)        as satisfied_answers,
        sum(answer_score)                           as score_sum,
        sum(answer_score * answer_score)            as score_sq_sum
    from answers
    group by region_code, wave, wave_year, question
),

rolled_up as (
    select
        closure.ancestor_code                       as region_code,
        per_region.wave,
        per_region.wave_year,
        per_region.question,
        sum(per_region.answers)                     as answers,
        sum(per_region.valid_answers)               as valid_answers,
        sum(per_region.satisfied_answers)           as satisfied_answers,
        sum(per_region.score_sum)                   as score_sum,
        sum(per_region.score_sq_sum)                as score_sq_sum
    from per_region
    inner join {{ ref('int_region_closure') }} as closure
        on closure.region_code = per_region.region_code
    group by closure.ancestor_code, per_region.wave, per_region.wave_year, per_region.question
),

estimates as (
    select
        *,
        cast(valid_answers as double)               as n,
        satisfied_answers / nullif(valid_answers, 0) as p,
        score_sum / nullif(valid_answers, 0)        as mean_score,
        {{ sd_from_sums('score_sum', 'score_sq_sum', 'valid_answers') }} as sd_score
    from rolled_up
),

min_sample as (
    select year, min_sample
    from {{ ref('int_rules__ranking_in_force') }}
    where body_group = 'county'
)

select
    estimates.region_code,
    regions.region_name,
    regions.region_level,
    estimates.wave,
    estimates.wave_year,
    estimates.question,
    try_cast(regexp_extract(estimates.question, '(\d+)', 1) as integer) as question_no,
    cast(estimates.answers as bigint)                               as answers,
    cast(estimates.valid_answers as bigint)                         as valid_answers,
    cast(estimates.satisfied_answers as bigint)                     as satisfied_answers,
    estimates.p                                                     as satisfaction_rate,
    {{ wilson_bound('estimates.p', 'estimates.n', z, '-') }}      as rate_ci_low,
    {{ wilson_bound('estimates.p', 'estimates.n', z, '+') }}      as rate_ci_high,
    round(estimates.mean_score, 4)                                  as satisfaction_index,
    {{ mean_ci_low('estimates.mean_score', 'estimates.sd_score', 'estimates.n', z) }} as index_ci_low,
    {{ mean_ci_high('estimates.mean_score', 'estimates.sd_score', 'estimates.n', z) }} as index_ci_high,
    min_sample.min_sample,
    coalesce(estimates.valid_answers >= min_sample.min_sample, false) as sample_sufficient
from estimates
left join {{ ref('dim_regions') }} as regions on regions.region_code = estimates.region_code
left join min_sample on min_sample.year = estimates.wave_year
