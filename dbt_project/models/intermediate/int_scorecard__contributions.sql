-- One row per assessed body, quarter and weighted indicator (DESIGN §5): the indicator's value,
-- its 0-100 score (rate × 100, or the index), the rule weight, the weight actually used after
-- renormalising over the indicators with data, and the contribution to the composite.
-- Arithmetic: contribution = score × weight / weights present, rounded to 4 decimals as a DECIMAL;
-- the composite is their exact sum (int_scorecard__composite), so the published contributions add
-- up to the published composite to the last digit and two builds give identical marts.
{%- set indicators = scorecard_indicators() %}

with indicator_values as (
    select * from {{ ref('int_scorecard__indicator_values') }}
),

rules as (
    select * from {{ ref('int_rules__ranking_in_force') }}
),

long_values as (
    {%- for ind in indicators %}
    select
        indicator_values.body_group,
        indicator_values.body_code,
        indicator_values.quarter,
        indicator_values.quarter_index,
        indicator_values.year,
        '{{ ind.key }}'                                         as indicator,
        cast({{ ind.value }} as double)                         as value,
        cast({{ ind.score }} as double)                         as score_exact,
        cast({{ ind.num }} as double)                           as numerator,
        cast({{ ind.den }} as double)                           as denominator,
        {{ ind.definition }}                                    as definition,
        rules.rules_version
    from indicator_values
    inner join rules
        on rules.year = indicator_values.year
       and rules.body_group = indicator_values.body_group
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

weighted as (
    select
        long_values.*,
        weights.indicator_name,
        weights.sort_order,
        cast(weights.weight as decimal(9, 4))                   as rule_weight,
        -- the weights of the indicators with data (exact: decimals)
        sum(cast(weights.weight as decimal(9, 4))) filter (where long_values.score_exact is not null) over (
            partition by long_values.body_group, long_values.body_code, long_values.quarter
        )                                                       as weight_present
    from long_values
    inner join {{ ref('int_rules__weights_in_force') }} as weights
        on weights.year = long_values.year
       and weights.body_group = long_values.body_group
       and weights.indicator = long_values.indicator
)

select
    body_group,
    body_code,
    quarter,
    quarter_index,
    year,
    indicator,
    indicator_name,
    sort_order,
    value,
    round(score_exact, 4)                                       as score,
    score_exact,
    cast(rule_weight as double)                                 as rule_weight,
    case when score_exact is not null
         then round(cast(rule_weight as double) * 100.0 / cast(weight_present as double), 4)
    end                                                         as weight_used,
    case when score_exact is not null
         then {{ composite_contribution('score_exact', 'rule_weight', 'weight_present') }}
    end                                                         as contribution,
    score_exact is null                                         as is_missing,
    numerator,
    denominator,
    definition,
    rules_version
from weighted
