-- Per group and quarter, the number of red flags is the rules' quota (or fewer when not enough
-- bodies are eligible: scored and not vetoed) and the number of snails is the quota among the
-- scored bodies left without a red flag; a vetoed body never holds a red flag.
with per_quarter as (
    select
        body_group,
        quarter,
        any_value(red_flags_quota)                                              as red_flags_quota,
        any_value(snails_quota)                                                 as snails_quota,
        count(*) filter (where composite_score is not null and not veto)        as eligible,
        count(*) filter (where composite_score is not null)                     as scored,
        count(*) filter (where flag = '红旗')                                   as red_flags,
        count(*) filter (where flag = '蜗牛')                                   as snails,
        count(*) filter (where flag = '红旗' and veto)                          as vetoed_red_flags
    from {{ ref('scorecard_quarterly') }}
    group by body_group, quarter
)

select *
from per_quarter
where red_flags <> least(red_flags_quota, eligible)
   or snails <> least(snails_quota, scored - red_flags)
   or vetoed_red_flags > 0
