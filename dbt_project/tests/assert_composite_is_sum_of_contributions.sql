-- The drill-down adds up: every published composite is the sum of its contributions (weighted
-- scores), and also Σ weight_used × score / 100 up to the 4-decimal rounding of each term; a body
-- without any contribution row with data has no composite.
with sums as (
    select
        body_group, body_code, quarter,
        sum(weighted_score)                                          as weighted_sum,
        sum(weight_used * score / 100) filter (where not is_missing) as weight_score_sum,
        count(*) filter (where not is_missing)                       as indicators_present
    from {{ ref('scorecard_contributions') }}
    group by body_group, body_code, quarter
)

select scorecard.body_group, scorecard.body_code, scorecard.quarter, scorecard.composite_score, sums.*
from {{ ref('scorecard_quarterly') }} as scorecard
left join sums
    on sums.body_group = scorecard.body_group
   and sums.body_code = scorecard.body_code
   and sums.quarter = scorecard.quarter
where (scorecard.composite_score is null) <> (coalesce(sums.indicators_present, 0) = 0)
   or abs(scorecard.composite_score - sums.weighted_sum) > 0.00005
   or abs(scorecard.composite_score - sums.weight_score_sum) > 0.001
