-- 约谈 is exactly "a snail for the second (or later) consecutive quarter" (DESIGN §5).
select *
from {{ ref('scorecard_snail_runs') }}
where talk_required <> (current_run >= 2)
