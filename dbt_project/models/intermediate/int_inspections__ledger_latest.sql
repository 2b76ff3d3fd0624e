-- One row per issue and ledger quarter (latest loaded row wins when an issue is listed twice).
with ranked as (
    select
        *,
        row_number() over (
            partition by issue_code, quarter
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__inspections') }}
)

select
    ranked.* exclude (recency, quarter),
    ranked.quarter              as ledger_quarter,
    quarters.quarter_index      as ledger_quarter_index
from ranked
inner join {{ ref('int_quarters__spine') }} as quarters on quarters.quarter = ranked.quarter
where ranked.recency = 1
