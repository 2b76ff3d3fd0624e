-- Ranking, red flags, snails, veto and margins per group and quarter (DESIGN §5).
--   rank      composite desc; ties: higher rectification rate, then higher task rate, then
--             code. A body with no composite at all (nothing to assess in the quarter, e.g. a
--             department whose tasks are all completed and that has no issues) ranks last and
--             gets neither a red flag nor a snail.
--   veto      an issue of the body overdue by more than veto_days at D (一票否决)
--   red flag  the best red_flags_quota bodies that have a composite and no veto: a vetoed
--             body's flag passes to the next eligible body
--   snail     the worst snails_quota bodies with a composite among those without a red flag
--   margin    distance in composite points to the nearest body on the other side of the line:
--             red flag → the best body that could have had the flag but did not (no flag, no
--             veto); snail → the worst body without a snail. near_tie when margin < near_tie_margin.
with composite as (
    select * from {{ ref('int_scorecard__composite') }}
),

ranked as (
    select
        *,
        coalesce(max_days_overdue, 0) > veto_days                       as veto,
        row_number() over (
            partition by body_group, quarter
            order by composite_score desc nulls last,
                     rectification_rate desc nulls last,
                     task_rate desc nulls last,
                     body_code
        )                                                               as rank,
        count(*) over (partition by body_group, quarter)                as bodies_ranked
    from composite
),

red_flag_order as (
    select
        body_group,
        body_code,
        quarter,
        row_number() over (partition by body_group, quarter order by rank) as red_flag_order
    from ranked
    where not veto
      and composite_score is not null
),

with_red_flags as (
    select
        ranked.*,
        coalesce(red_flag_order.red_flag_order <= ranked.red_flags_quota, false) as is_red_flag
    from ranked
    left join red_flag_order
        on red_flag_order.body_group = ranked.body_group
       and red_flag_order.body_code = ranked.body_code
       and red_flag_order.quarter = ranked.quarter
),

snail_order as (
    select
        body_group,
        body_code,
        quarter,
        row_number() over (partition by body_group, quarter order by rank desc) as snail_order
    from with_red_flags
    where not is_red_flag
      and composite_score is not null
),

flagged as (
    select
        with_red_flags.*,
        coalesce(snail_order.snail_order <= with_red_flags.snails_quota, false) as is_snail
    from with_red_flags
    left join snail_order
        on snail_order.body_group = with_red_flags.body_group
       and snail_order.body_code = with_red_flags.body_code
       and snail_order.quarter = with_red_flags.quarter
),

lines as (
    select
        body_group,
        quarter,
        max(composite_score) filter (where not is_red_flag and not veto)  as best_unflagged_eligible_score,
        min(composite_score) filter (where not is_snail)                  as worst_non_snail_score
    from flagged
    group by body_group, quarter
),

with_margins as (
    select
        flagged.*,
        case
            when flagged.is_red_flag then '红旗'
            when flagged.is_snail then '蜗牛'
        end                                                             as flag,
        round(case
            when flagged.is_red_flag then flagged.composite_score - lines.best_unflagged_eligible_score
            when flagged.is_snail then lines.worst_non_snail_score - flagged.composite_score
        end, 4)                                                         as margin
    from flagged
    inner join lines
        on lines.body_group = flagged.body_group
       and lines.quarter = flagged.quarter
)

select
    * exclude (is_red_flag, is_snail),
    coalesce(margin < near_tie_margin, false)                           as near_tie
from with_margins
