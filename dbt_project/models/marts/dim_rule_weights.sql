-- Indicator weights of every rules version and group (each group's weights sum to 100).
select
    weights.rules_version,
    weights.body_group,
    weights.indicator,
    indicators.indicator_name,
    indicators.sort_order,
    weights.weight
from {{ source('rules', 'rule_weights') }} as weights
inner join {{ source('rules', 'indicators') }} as indicators
    on indicators.indicator = weights.indicator
