-- Public satisfaction per region and survey wave (DESIGN §4). A questionnaire counts for its
-- own region and every region above it. Valid answers exclude 不了解.
--   satisfaction_rate   answers 很满意/满意/基本满意 / valid answers
--   satisfaction_index  sum of the scores (100/80/60/30/0) / valid answers
-- The sampling unit is the respondent: one person's answers are not independent observations.
-- With respondent i's score sum y_i, valid answers m_i, satisfied answers s_i, n respondents with
-- at least one valid answer and M = Σm_i:
--   index interval   R ± z·√V(R), R = Σy/M, linearised (cluster-robust) variance of the ratio
--                    V(R) = n/(n−1) · Σ(y_i − R·m_i)² / M², clipped to [0, 100]; null when n < 2
--   rate interval    Wilson with n_eff = M / deff, deff = V_cl(p) / (p(1−p)/M) floored at 1,
--                    V_cl(p) = n/(n−1) · Σ(s_i − p·m_i)² / M² (deff = 1 when p is 0 or 1 or n < 2)
-- The squared residual sums come from additive sums (Σy², Σy·m, Σm², Σs², Σs·m), so they roll up
-- the region hierarchy like the counts.
--   sample_sufficient   valid respondents >= min_sample of the rules in force for the wave's year;
--                       otherwise shown as 样本不足 and not used for ranking
{%- set z = var('ci_z') %}

with respondents as (
    select
        region_code,
        wave,
        wave_year,
        cast(valid_answers as double)               as m,
        cast(satisfied_answers as double)           as s,
        cast(score_sum as double)                   as y
    from {{ ref('int_survey__responses') }}
),

per_region as (
    select
        region_code,
        wave,
        wave_year,
        count(*)                                    as respondents,
        count(*) filter (where m > 0)               as valid_respondents,
        sum(m) as m, sum(s) as s, sum(y) as y,
        sum(y * y) as yy, sum(y * m) as ym, sum(m * m) as mm, sum(s * s) as ss, sum(s * m) as sm
    from respondents
    group by region_code, wave, wave_year
),

rolled_up as (
    select
        closure.ancestor_code                       as region_code,
        per_region.wave,
        per_region.wave_year,
        sum(respondents) as respondents, sum(valid_respondents) as valid_respondents,
        sum(m) as m, sum(s) as s, sum(y) as y,
        sum(yy) as yy, sum(ym) as ym, sum(mm) as mm, sum(ss) as ss, sum(sm) as sm
    from per_region
    inner join {{ ref('int_region_closure') }} as closure
        on closure.region_code = per_region.region_code
    group by closure.ancestor_code, per_region.wave, per_region.wave_year
),

ratios as (
    select
        *,
        s / nullif(m, 0)                            as p,
        y / nullif(m, 0)                            as r
    from rolled_up
),

variances as (
    select
        *,
        case when valid_respondents > 1
             then valid_respondents / (valid_respondents - 1.0)
                  * greatest(yy - 2 * r * ym + r * r * mm, 0) / (m * m) end        as var_index,
        case when valid_respondents > 1
             then valid_respondents / (valid_respondents - 1.0)
                  * greatest(ss - 2 * p * sm + p * p * mm, 0) / (m * m) end        as var_rate_cluster,
        p * (1 - p) / nullif(m, 0)                                                  as var_rate_srs
    from ratios
),

design as (
    select
        *,
        case when var_rate_cluster is not null and var_rate_srs > 0
             then greatest(var_rate_cluster / var_rate_srs, 1.0) else 1.0 end       as design_effect
    from variances
),

estimates as (
    select *, m / design_effect as n_eff from design
),

min_sample as (
    -- one sample threshold per year for both groups (qinglian.rules SHARED_ONLY)
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
    cast(estimates.m as bigint)                                     as valid_answers,
    cast(estimates.s as bigint)                                     as satisfied_answers,
    estimates.p                                                     as satisfaction_rate,
    {{ wilson_bound('estimates.p', 'estimates.n_eff', z, '-') }}  as rate_ci_low,
    {{ wilson_bound('estimates.p', 'estimates.n_eff', z, '+') }}  as rate_ci_high,
    round(estimates.r, 4)                                           as satisfaction_index,
    case when estimates.var_index is not null
         then round(greatest(estimates.r - {{ z }} * sqrt(estimates.var_index), 0), 4) end as index_ci_low,
    case when estimates.var_index is not null
         then round(least(estimates.r + {{ z }} * sqrt(estimates.var_index), 100), 4) end  as index_ci_high,
    estimates.y                                                     as score_sum,
    round(estimates.design_effect, 6)                               as design_effect,
    round(estimates.n_eff, 4)                                       as effective_n,
    min_sample.min_sample,
    coalesce(estimates.valid_respondents >= min_sample.min_sample, false) as sample_sufficient
from estimates
left join {{ ref('dim_regions') }} as regions on regions.region_code = estimates.region_code
left join min_sample on min_sample.year = estimates.wave_year
