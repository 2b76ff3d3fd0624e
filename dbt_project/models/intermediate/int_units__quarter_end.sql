{{ config(materialized='view') }}
-- A unit's state at each quarter end D is its latest ledger snapshot with quarter <= Q: a
-- county that skips a quarter's ledger keeps its previous figures (carried forward) rather
-- than dropping to zero. Read once, by fct_units, so a view is enough.
with snapshots as (
    select
        *,
        lead(snapshot_quarter_index) over (partition by unit_code order by snapshot_quarter_index)
            as next_snapshot_index
    from {{ ref('int_units__quarterly_snapshots') }}
)

select
    quarters.quarter,
    quarters.quarter_index,
    quarters.quarter_end_date,
    snapshots.unit_code,
    snapshots.unit_name,
    snapshots.unit_type,
    snapshots.region_code,
    snapshots.stage,
    snapshots.stage_level,
    snapshots.assessment_score,
    snapshots.assessed_date,
    snapshots.snapshot_quarter,
    snapshots.snapshot_quarter <> quarters.quarter as is_carried_forward,
    snapshots.file_id,
    snapshots.sheet,
    snapshots.row_number
from snapshots
inner join {{ ref('int_quarters__spine') }} as quarters
    on quarters.quarter_index >= snapshots.snapshot_quarter_index
   and (snapshots.next_snapshot_index is null or quarters.quarter_index < snapshots.next_snapshot_index)
