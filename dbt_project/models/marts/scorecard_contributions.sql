-- The ranking drill-down (指标构成): one row per assessed body, quarter and indicator its group's
-- rules weight — the indicator's value with its numerator and denominator, its 0-100 score, the
-- rule weight, the weight used after renormalising over the indicators with data, the weighted
-- score (its contribution to the composite) and the rules version. scorecard_quarterly's
-- composite_score is exactly the sum of weighted_score (tested), so a page never re-derives it.
select
    contributions.body_group,
    contributions.body_code,
    bodies.body_name,
    contributions.quarter,
    contributions.year,
    contributions.indicator,
    contributions.indicator_name,
    contributions.sort_order,
    contributions.value,
    contributions.score,
    contributions.rule_weight,
    contributions.weight_used,
    cast(contributions.contribution as double)                  as weighted_score,
    contributions.is_missing,
    contributions.numerator,
    contributions.denominator,
    contributions.definition,
    contributions.rules_version
from {{ ref('int_scorecard__contributions') }} as contributions
left join {{ ref('dim_bodies') }} as bodies
    on bodies.body_group = contributions.body_group
   and bodies.body_code = contributions.body_code
