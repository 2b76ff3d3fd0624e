-- Indicator weights in force per year and group, taken from the same rules year as the
-- ranking rules (so a scorecard row never mixes two rules versions).
select
    in_force.year,
    in_force.body_group,
    weights.indicator,
    weights.indicator_name,
    weights.sort_order,
    weights.weight,
    weights.rules_version
from {{ ref('int_rules__ranking_in_force') }} as in_force
inner join {{ ref('scoring_rules') }} as weights
    on weights.year = in_force.rules_year
   and weights.body_group = in_force.body_group
where weights.weight > 0
