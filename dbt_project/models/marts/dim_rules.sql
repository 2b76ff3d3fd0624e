-- Every rules version of the office's configuration (排名与考核规则), per group: what each ranking
-- and assessment row's rules_version points to. Pages, exports and checks read a rule from here
-- or from rules_by_year, never from code. Weights: dim_rule_weights.
select
    rule_sets.rules_version,
    rule_sets.body_group,
    rule_sets.from_year,
    rule_sets.note,
    rule_sets.source_file,
    rule_sets.* exclude (rules_version, body_group, from_year, note, source_file)
from {{ source('rules', 'rule_sets') }} as rule_sets
