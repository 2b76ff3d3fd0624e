-- One row per unit and ledger quarter: if a unit appears twice for the same quarter (two
-- current files), the most recently loaded row wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by unit_code, quarter
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__units') }}
)

select
    ranked.unit_code,
    ranked.quarter              as snapshot_quarter,
    quarters.quarter_index      as snapshot_quarter_index,
    ranked.unit_name,
    ranked.unit_type,
    ranked.region_code,
    ranked.stage,
    ranked.stage_level,
    ranked.assessment_score,
    ranked.assessed_date,
    ranked.file_id,
    ranked.sheet,
    ranked.row_number,
    ranked.loaded_at
from ranked
inner join {{ ref('int_quarters__spine') }} as quarters on quarters.quarter = ranked.quarter
where ranked.recency = 1
