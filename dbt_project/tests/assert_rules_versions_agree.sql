-- scoring_rules and ranking_rules are one versioned rule set: each year has one rules_version,
-- the same in both files, and every group has both weights and ranking rules.
with versions as (
    select year, body_group, rules_version, 'scoring_rules' as source from {{ ref('scoring_rules') }}
    union
    select year, body_group, rules_version, 'ranking_rules' as source from {{ ref('ranking_rules') }}
)

select year, body_group,
       count(distinct rules_version) as versions,
       count(distinct source) as sources
from versions
group by year, body_group
having count(distinct rules_version) <> 1 or count(distinct source) <> 2
