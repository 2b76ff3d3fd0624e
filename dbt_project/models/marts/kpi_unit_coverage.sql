-- Clean-unit coverage per region, unit type and quarter at D, for every level of the
-- hierarchy (a unit counts for its own region and every region above it) and for all types
-- together (unit_type 全部). Only regions with at least one registered unit get a row.
--   coverage_rate  stage >= 已达标 / registered;  start_rate  stage >= 创建中 / registered;
--   model_rate     stage = 示范 / registered
with unit_counts as (
    -- count at the units' own regions first: the roll-up then joins counts, not units
    select
        region_code,
        unit_type,
        quarter,
        count(*)                                    as units_registered,
        count(*) filter (where is_started)          as units_started,
        count(*) filter (where is_standard)         as units_standard,
        count(*) filter (where is_model)            as units_model
    from {{ ref('fct_units') }}
    group by region_code, unit_type, quarter
),

rolled_up as (
    select
        closure.ancestor_code                       as region_code,
        coalesce(unit_counts.unit_type, '全部')     as unit_type,
        unit_counts.quarter,
        sum(unit_counts.units_registered)           as units_registered,
        sum(unit_counts.units_started)              as units_started,
        sum(unit_counts.units_standard)             as units_standard,
        sum(unit_counts.units_model)                as units_model
    from unit_counts
    inner join {{ ref('int_region_closure') }} as closure
        on closure.region_code = unit_counts.region_code
    group by grouping sets (
        (closure.ancestor_code, unit_counts.quarter, unit_counts.unit_type),
        (closure.ancestor_code, unit_counts.quarter)
    )
)

select
    rolled_up.region_code,
    regions.region_name,
    regions.region_level,
    rolled_up.unit_type,
    rolled_up.quarter,
    cast(rolled_up.units_registered as bigint)                          as units_registered,
    cast(rolled_up.units_started as bigint)                             as units_started,
    cast(rolled_up.units_standard as bigint)                            as units_standard,
    cast(rolled_up.units_model as bigint)                               as units_model,
    rolled_up.units_standard / nullif(rolled_up.units_registered, 0)    as coverage_rate,
    rolled_up.units_started / nullif(rolled_up.units_registered, 0)     as start_rate,
    rolled_up.units_model / nullif(rolled_up.units_registered, 0)       as model_rate
from rolled_up
inner join {{ ref('dim_regions') }} as regions on regions.region_code = rolled_up.region_code
