-- One row per region code: when a region appears in several current files (a later
-- supplementary list), the most recently loaded row wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by region_code
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__regions') }}
)

select
    region_code,
    region_name,
    region_level,
    -- 省 1 … 村 5: lets roll-ups and dashboards sort levels without a lookup
    case region_level when '省' then 1 when '市' then 2 when '县' then 3 when '乡' then 4 when '村' then 5 end
                                  as level_rank,
    parent_code,
    population,
    is_synthetic,
    file_id,
    sheet,
    row_number,
    loaded_at
from ranked
where recency = 1
