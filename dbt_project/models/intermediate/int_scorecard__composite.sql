-- Quarterly composite score per assessed body (DESIGN §5): the weighted mean of the indicator
-- scores (rate × 100, or the index) with the weights in force for the quarter's year. An
-- indicator without data is left out and the remaining weights are renormalised; its Chinese
-- name goes into missing_indicators.
-- Arithmetic: each indicator's contribution (score × weight / weights present) is rounded to 4
-- decimals first and the composite is their exact DECIMAL sum. So the published contributions
-- add up to the published composite to the last digit, and the result does not depend on the
-- order in which a parallel aggregate happens to add floats (two builds give identical marts).
-- That 4-decimal composite is what ranks: bodies with the same published score are tied.
{%- set indicators = scorecard_indicators() %}

with indicator_values as (
    select * from {{ ref('int_scorecard__indicator_values') }}
),

scores as (
    select
        *,
        {%- for key, prefix, expr in indicators %}
        {{ expr }} as {{ prefix }}_score_exact{{ "," if not loop.last }}
        {%- endfor %}
    from indicator_values
),

long_scores as (
    {%- for key, prefix, expr in indicators %}
    select body_group, body_code, quarter, year, '{{ key }}' as indicator, {{ prefix }}_score_exact as score
    from scores
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

weighted as (
    select
        long_scores.*,
        weights.indicator_name,
        weights.sort_order,
        cast(weights.weight as decimal(9, 4))                           as weight,
        -- the weights of the indicators with data (exact: decimals)
        sum(cast(weights.weight as decimal(9, 4))) filter (where long_scores.score is not null) over (
            partition by long_scores.body_group, long_scores.body_code, long_scores.quarter
        )                                                               as weight_present
    from long_scores
    inner join {{ ref('int_rules__weights_in_force') }} as weights
        on weights.year = long_scores.year
       and weights.body_group = long_scores.body_group
       and weights.indicator = long_scores.indicator
),

contributions as (
    select
        *,
        cast(round(score * cast(weight as double) / cast(weight_present as double), 4) as decimal(9, 4))
                                                                        as contribution
    from weighted
),

composite as (
    select
        body_group,
        body_code,
        quarter,
        cast(sum(contribution) as double)                               as composite_exact,
        cast(coalesce(sum(weight) filter (where score is not null), 0) as double) as weight_total_used,
        string_agg(indicator_name, '、' order by sort_order, indicator) filter (where score is null)
                                                                        as missing_indicators,
        {%- for key, prefix, expr in indicators %}
        cast(max(weight) filter (where indicator = '{{ key }}') as double) as {{ prefix }}_weight{{ "," if not loop.last }}
        {%- endfor %}
    from contributions
    group by body_group, body_code, quarter
)

select
    scores.body_group,
    scores.body_code,
    scores.quarter,
    scores.quarter_index,
    scores.year,
    round(composite.composite_exact, 4)                                 as composite_score,
    {%- for key, prefix, expr in indicators %}
    -- an indicator the group's rules do not weight has no score (e.g. timeliness for counties)
    case when composite.{{ prefix }}_weight is not null
         then round(scores.{{ prefix }}_score_exact, 4) end              as {{ prefix }}_score,
    {%- endfor %}
    {%- for key, prefix, expr in indicators %}
    composite.{{ prefix }}_weight,
    {%- endfor %}
    {%- for key, prefix, expr in indicators %}
    -- the share this indicator actually had after renormalisation (NULL when it was missing)
    case when scores.{{ prefix }}_score_exact is not null and composite.weight_total_used > 0
         then round(composite.{{ prefix }}_weight * 100.0 / composite.weight_total_used, 4)
    end                                                                 as {{ prefix }}_weight_used,
    {%- endfor %}
    composite.weight_total_used,
    composite.missing_indicators,
    scores.task_rate,
    scores.tasks_on_schedule,
    scores.tasks_active,
    scores.coverage_rate,
    scores.units_standard,
    scores.units_registered,
    scores.rectification_rate,
    scores.issues_rectified,
    scores.issues_due,
    scores.overdue_open,
    scores.max_days_overdue,
    scores.timeliness_rate,
    scores.reports_on_time,
    scores.reports_due,
    scores.satisfaction_index,
    scores.satisfaction_wave,
    scores.satisfaction_respondents,
    scores.satisfaction_sample_sufficient,
    rules.rules_version,
    rules.red_flags                                                     as red_flags_quota,
    rules.snails                                                        as snails_quota,
    rules.veto_days,
    rules.near_tie_margin
from scores
inner join composite
    on composite.body_group = scores.body_group
   and composite.body_code = scores.body_code
   and composite.quarter = scores.quarter
inner join {{ ref('int_rules__ranking_in_force') }} as rules
    on rules.year = scores.year
   and rules.body_group = scores.body_group
