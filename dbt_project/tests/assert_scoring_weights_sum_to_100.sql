-- The weights of one group in one rules year must add up to 100, so that a body with every
-- indicator present gets the plain weighted mean of DESIGN §5.
select year, body_group, sum(weight) as total_weight
from {{ ref('scoring_rules') }}
group by year, body_group
having abs(sum(weight) - 100) > 1e-9
