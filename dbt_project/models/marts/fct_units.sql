-- Clean units (清廉单元) as they stood at each quarter end: one row per unit and quarter, from
-- the quarter of the unit's first ledger on; is_carried_forward marks a state taken from an
-- earlier quarter's ledger. file_id/sheet/row_number point at the ledger row behind the state.
select
    units.quarter,
    units.unit_code,
    units.unit_name,
    units.unit_type,
    units.region_code,
    regions.county_code,
    units.stage,
    units.stage_level,
    units.stage_level >= 1                          as is_started,
    units.stage_level >= 2                          as is_standard,
    units.stage_level >= 3                          as is_model,
    units.assessment_score,
    units.assessed_date,
    units.snapshot_quarter,
    units.is_carried_forward,
    units.file_id,
    units.sheet,
    units.row_number
from {{ ref('int_units__quarter_end') }} as units
left join {{ ref('dim_regions') }} as regions on regions.region_code = units.region_code
