-- Indicator weights in force per year and group, from the same rules version as the ranking
-- rules (so a scorecard row never mixes two versions).
select
    in_force.year,
    in_force.body_group,
    weights.indicator,
    indicators.indicator_name,
    indicators.sort_order,
    weights.weight,
    in_force.rules_version
from {{ ref('int_rules__ranking_in_force') }} as in_force
inner join {{ source('rules', 'rule_weights') }} as weights
    on weights.rules_version = in_force.rules_version
   and weights.body_group = in_force.body_group
inner join {{ source('rules', 'indicators') }} as indicators
    on indicators.indicator = weights.indicator
where weights.weight > 0
