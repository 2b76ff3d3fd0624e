-- The annual page's indicator breakdown (年度考核 指标构成): per group, body, year and weighted
-- indicator, the mean of the body's quarterly indicator scores over the quarters of the year
-- that have the indicator (a quarter without data is left out, not counted as 0).
select
    body_group,
    body_code,
    year,
    indicator,
    indicator_name,
    sort_order,
    round(avg(score_exact), 4)                      as mean_score,
    count(score_exact)                              as quarters_with_data
from {{ ref('int_scorecard__contributions') }}
group by body_group, body_code, year, indicator, indicator_name, sort_order
