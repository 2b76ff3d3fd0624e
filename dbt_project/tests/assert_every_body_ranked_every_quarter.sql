-- Every assessed body has exactly one scorecard row in every quarter, and the ranks of a group
-- run 1..n without gaps.
with expected as (
    select bodies.body_group, bodies.body_code, quarters.quarter
    from {{ ref('dim_bodies') }} as bodies
    cross join {{ ref('dim_quarters') }} as quarters
),

missing as (
    select expected.body_group, expected.body_code, expected.quarter, 'missing' as problem
    from expected
    left join {{ ref('scorecard_quarterly') }} as scorecard
        on scorecard.body_group = expected.body_group
       and scorecard.body_code = expected.body_code
       and scorecard.quarter = expected.quarter
    where scorecard.rank is null
),

gaps as (
    select body_group, cast(null as varchar) as body_code, quarter, 'ranks not 1..n' as problem
    from {{ ref('scorecard_quarterly') }}
    group by body_group, quarter
    having max(rank) <> count(*) or count(distinct rank) <> count(*)
)

select * from missing
union all
select * from gaps
