-- Quarterly composite score per assessed body (DESIGN §5): the weighted mean of the indicator
-- scores with the weights in force for the quarter's year, i.e. the exact sum of the 4-decimal
-- contributions of int_scorecard__contributions (missing indicators left out, the remaining
-- weights renormalised; their Chinese names go into missing_indicators). That 4-decimal
-- composite is what ranks: bodies with the same published score are tied.
{%- set indicators = scorecard_indicators() %}

with scores as (
    select
        *,
        {%- for ind in indicators %}
        {{ ind.score }} as {{ ind.prefix }}_score_exact{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_scorecard__indicator_values') }}
),

contributions as (
    select * exclude (score), cast(rule_weight as decimal(9, 4)) as weight, score_exact as score
    from {{ ref('int_scorecard__contributions') }}
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
        {%- for ind in indicators %}
        cast(max(weight) filter (where indicator = '{{ ind.key }}') as double) as {{ ind.prefix }}_weight{{ "," if not loop.last }}
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
    {%- for ind in indicators %}
    -- an indicator the group's rules do not weight has no score (e.g. timeliness for counties)
    case when composite.{{ ind.prefix }}_weight is not null
         then round(scores.{{ ind.prefix }}_score_exact, 4) end              as {{ ind.prefix }}_score,
    {%- endfor %}
    {%- for ind in indicators %}
    composite.{{ ind.prefix }}_weight,
    {%- endfor %}
    {%- for ind in indicators %}
    -- the share this indicator actually had after renormalisation (NULL when it was missing)
    case when scores.{{ ind.prefix }}_score_exact is not null and composite.weight_total_used > 0
         then round(composite.{{ ind.prefix }}_weight * 100.0 / composite.weight_total_used, 4)
    end                                                                 as {{ ind.prefix }}_weight_used,
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
