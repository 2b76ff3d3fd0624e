-- Group averages of the indicator scores per quarter (季度通报: 高于/低于本组平均): the mean of the
-- 0-100 scores of the bodies of the group that have the indicator that quarter.
select
    body_group,
    quarter,
    indicator,
    indicator_name,
    sort_order,
    round(avg(score_exact), 4)                      as group_mean,
    count(score_exact)                              as bodies_with_data
from {{ ref('int_scorecard__contributions') }}
group by body_group, quarter, indicator, indicator_name, sort_order
