{{ config(materialized='view') }}
-- Each inspection issue as it stood at every quarter end D: the latest ledger row with
-- quarter <= Q, attributed to the body that must rectify it (DESIGN §4 Attribution): the
-- department named in 被巡察单位 when that resolves, otherwise the county-level region that
-- contains 所属区划. Read once, by fct_issue_quarters.
with ledger as (
    select
        *,
        lead(ledger_quarter_index) over (partition by issue_code order by ledger_quarter_index)
            as next_ledger_index
    from {{ ref('int_inspections__ledger_latest') }}
),

as_of as (
    select
        quarters.quarter,
        quarters.quarter_index,
        quarters.quarter_end_date,
        ledger.*
    from ledger
    inner join {{ ref('int_quarters__spine') }} as quarters
        on quarters.quarter_index >= ledger.ledger_quarter_index
       and (ledger.next_ledger_index is null or quarters.quarter_index < ledger.next_ledger_index)
),

county_of_region as (
    select region_code, ancestor_code as county_code
    from {{ ref('int_region_closure') }}
    where ancestor_level = '县'
),

attributed as (
    select
        as_of.*,
        case
            when as_of.body_dept_code is not null then 'department'
            when county_of_region.county_code is not null then 'county'
        end                                                     as body_group,
        coalesce(as_of.body_dept_code, county_of_region.county_code) as body_code,
        -- rectified at D: 已整改 with a completion date on or before D. A 已整改 row without a
        -- date is taken at its word (the ledger is as of a quarter <= Q).
        (as_of.status = '已整改' and coalesce(as_of.completed_date, as_of.quarter_end_date) <= as_of.quarter_end_date)
                                                                as is_rectified
    from as_of
    left join county_of_region on county_of_region.region_code = as_of.region_code
)

select
    quarter,
    quarter_index,
    quarter_end_date,
    issue_code,
    body_group,
    body_code,
    inspected_body,
    region_code,
    inspection_round,
    category,
    description,
    found_date,
    deadline,
    status,
    completed_date,
    is_closed,
    ledger_quarter,
    deadline <= quarter_end_date                                as is_due,
    is_rectified,
    is_rectified and completed_date <= deadline                 as is_rectified_on_time,
    deadline < quarter_end_date and not is_rectified            as is_overdue_open,
    case when deadline < quarter_end_date and not is_rectified
         then date_diff('day', deadline, quarter_end_date) end  as days_overdue,
    file_id,
    sheet,
    row_number
from attributed
