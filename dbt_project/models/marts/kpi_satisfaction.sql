-- Public satisfaction per region and survey wave (DESIGN §4). A questionnaire counts for its
-- own region and every region above it. Valid answers exclude 不了解.
--   satisfaction_rate   answers 很满意/满意/基本满意 / valid answers, with a Wilson 95% interval
--   satisfaction_index  mean score (100/80/60/30/0) over valid answers, with a normal-
--                       approximation 95% interval: mean ± z·sd/√n (sample sd), clipped to [0, 100]
--   sample_sufficient   valid respondents (at least one valid answer) >= min_sample of the
--                       rules in force for the wave's year; otherwise shown as 样本不足 and not
--                       used for ranking
{%- set z = var('ci_z') %}

with per_region as (
    select
        region_code,
        wave,
        wave_year,
        count(*)                                    as respondents,
        count(*) filter (where valid_answers > 0)   as valid_respondents,
        sum(valid_answers)                          as valid_answers,
        sum(satisfied_answers)                      as satisfied_answers,
        sum(score_sum)                              as score_sum,
        sum(score_sq_sum)                           as score_sq_sum
    from {{ ref('int_survey__responses') }}
    group by region_code, wave, wave_year
),

rolled_up as (
    select
        closure.ancestor_code                       as region_code,
        per_region.wave,
        per_region.wave_year,
        sum(per_region.respondents)                 as respondents,
        sum(per_region.valid_respondents)           as valid_respondents,
        sum(per_region.valid_answers)               as valid_answers,
        sum(per_region.satisfied_answers)           as satisfied_answers,
        sum(per_region.score_sum)                   as score_sum,
        sum(per_region.score_sq_sum)                as score_sq_sum
    from per_region
    inner join {{ ref('int_region_closure') }} as closure
        on closure.region_code = per_region.region_code
    group by closure.ancestor_code, per_region.wave, per_region.wave_year
),

estimates as (
    select
        *,
        cast(valid_answers as double)                               as n,
        satisfied_answers / nullif(valid_answers, 0)                as p,
        score_sum / nullif(valid_answers, 0)                        as mean_score,
        {{ sd_from_sums('score_sum', 'score_sq_sum', 'valid_answers') }} as sd_score
    from rolled_up
),

min_sample as (
    -- the sample-size threshold comes from the rules (one value for the year; the county
    -- row is used because satisfaction is a county indicator)
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
    cast(estimates.respondents as bigint)                           as respondents,
    cast(estimates.valid_respondents as bigint)                     as valid_respondents,
    cast(estimates.valid_answers as bigint)                         as valid_answers,
    cast(estimates.satisfied_answers as bigint)                     as satisfied_answers,
    estimates.p                                                     as satisfaction_rate,
    {{ wilson_bound('estimates.p', 'estimates.n', z, '-') }}      as rate_ci_low,
    {{ wilson_bound('estimates.p', 'estimates.n', z, '+') }}      as rate_ci_high,
    round(estimates.mean_score, 4)                                  as satisfaction_index,
    {{ mean_ci_low('estimates.mean_score', 'estimates.sd_score', 'estimates.n', z) }} as index_ci_low,
    {{ mean_ci_high('estimates.mean_score', 'estimates.sd_score', 'estimates.n', z) }} as index_ci_high,
    min_sample.min_sample,
    coalesce(estimates.valid_respondents >= min_sample.min_sample, false) as sample_sufficient
from estimates
left join {{ ref('dim_regions') }} as regions on regions.region_code = estimates.region_code
left join min_sample on min_sample.year = estimates.wave_year
