-- Regions with their place in the hierarchy: the code of the province, city, county and town
-- above each one (NULL above the top of the register), so a village can be filtered by county
-- without walking parent links.
with regions as (
    select * from {{ ref('int_regions__latest') }}
),

ancestors as (
    select
        region_code,
        max(ancestor_code) filter (where ancestor_level = '省') as province_code,
        max(ancestor_code) filter (where ancestor_level = '市') as city_code,
        max(ancestor_code) filter (where ancestor_level = '县') as county_code,
        max(ancestor_code) filter (where ancestor_level = '乡') as town_code
    from {{ ref('int_region_closure') }}
    group by region_code
)

select
    regions.region_code,
    regions.region_name,
    regions.region_level,
    regions.level_rank,
    regions.parent_code,
    parents.region_name                          as parent_name,
    ancestors.province_code,
    ancestors.city_code,
    ancestors.county_code,
    ancestors.town_code,
    regions.region_level = '县'                  as is_county_level,
    regions.population,
    regions.is_synthetic,
    regions.file_id,
    regions.sheet,
    regions.row_number
from regions
left join regions as parents on parents.region_code = regions.parent_code
left join ancestors on ancestors.region_code = regions.region_code
