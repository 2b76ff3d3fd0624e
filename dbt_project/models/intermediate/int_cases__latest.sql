-- One row per region, quarter and statistical scope (累计 / 当季): the latest loaded row wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by region_code, quarter, scope
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__cases') }}
)

select
    ranked.* exclude (recency),
    cast(left(ranked.quarter, 4) as integer)   as year,
    cast(right(ranked.quarter, 1) as integer)  as quarter_num
from ranked
where recency = 1
