-- Closure (bridge) table of the region hierarchy: one row per (region, ancestor) pair,
-- including the region itself at depth 0. Joining facts on region_code and grouping by
-- ancestor_code rolls village → town → county → city → province in one step.
with recursive regions as (
    select region_code, parent_code
    from {{ ref('int_regions__latest') }}
),

closure (region_code, ancestor_code, depth) as (
    select region_code, region_code, 0
    from regions

    union all

    select closure.region_code, regions.parent_code, closure.depth + 1
    from closure
    inner join regions on regions.region_code = closure.ancestor_code
    -- a parent outside the register ends the chain; the depth cap guards against a cycle
    where regions.parent_code is not null
      and closure.depth < 8
)

select
    closure.region_code,
    closure.ancestor_code,
    closure.depth,
    ancestor.region_level as ancestor_level
from closure
-- keep only ancestors that are themselves registered regions
inner join {{ ref('int_regions__latest') }} as ancestor
    on ancestor.region_code = closure.ancestor_code
