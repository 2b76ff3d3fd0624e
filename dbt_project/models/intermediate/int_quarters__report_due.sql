-- The report deadline of every quarter (按时报送截止日): the quarter end D plus the rules'
-- report_deadline_days (default 10) of the quarter's year.
select
    spine.quarter,
    cast(spine.quarter_end_date + to_days(rules.report_deadline_days) as date) as report_due_date
from {{ ref('int_quarters__spine') }} as spine
inner join {{ ref('int_rules__ranking_in_force') }} as rules
    on rules.year = spine.year
   and rules.body_group = 'county'  -- one value for both groups (qinglian.rules SHARED_ONLY)
