-- Snail history (蜗牛记录) per assessed body and quarter: how many consecutive quarters up to this one
-- the body has been a snail (0 when not a snail now), and the longest run so far. 约谈 follows from the
-- rules (two consecutive snails, scorecard_quarterly.talk_required); pages read the runs from here.
with flags as (
    select
        body_group,
        body_code,
        body_name,
        quarter,
        quarters.quarter_index,
        flag,
        coalesce(flag = '蜗牛', false)                                  as is_snail,
        talk_required
    from {{ ref('scorecard_quarterly') }}
    inner join {{ ref('dim_quarters') }} as quarters using (quarter)
),

islands as (
    select
        *,
        -- a new island starts at every quarter that is not a snail
        sum(case when is_snail then 0 else 1 end) over (
            partition by body_group, body_code order by quarter_index rows unbounded preceding
        )                                                               as island
    from flags
),

runs as (
    select
        *,
        case when is_snail
             then count(*) filter (where is_snail) over (
                 partition by body_group, body_code, island order by quarter_index rows unbounded preceding)
             else 0 end                                                 as snail_run
    from islands
)

select
    body_group,
    body_code,
    body_name,
    quarter,
    flag,
    is_snail,
    cast(snail_run as integer)                                          as current_run,
    cast(max(snail_run) over (
        partition by body_group, body_code order by quarter_index rows unbounded preceding) as integer)
                                                                        as longest_run,
    talk_required
from runs
