-- The scopes a reader sees headline figures for: the programme's root region (the deepest level
-- of the register that holds exactly one region, every level above it holding one too — a city
-- deployment whose register also lists the province gives the city) and every county-level region
-- (what a county user sees). A single-county register gives one row, the root.
with levels as (
    select level_rank, count(*) as regions, min(region_code) as region_code
    from {{ ref('dim_regions') }}
    group by level_rank
),

root as (
    select levels.region_code
    from levels
    where levels.regions = 1
      and not exists (
          select 1 from levels as above
          where above.level_rank <= levels.level_rank and above.regions <> 1
      )
    order by levels.level_rank desc
    limit 1
)

select
    regions.region_code                             as scope_code,
    regions.region_name                             as scope_name,
    regions.region_level                            as scope_level,
    regions.region_code in (select region_code from root) as is_root
from {{ ref('dim_regions') }} as regions
where regions.region_code in (select region_code from root)
   or regions.is_county_level
