-- The rules in force for every year the warehouse has data for (quarters and survey waves), per
-- assessment group: the version whose from_year is the latest on or before the year, else the
-- default rules (from_year null). A version configured for 2026 therefore never touches a 2025
-- figure. The values come from the office's rules configuration (schema rules, see
-- qinglian/rules); nothing here restates a rule.
with data_years as (
    select distinct year from {{ ref('int_quarters__spine') }}
    union
    select distinct wave_year from {{ ref('int_survey__responses') }} where wave_year is not null
),

rule_sets as (
    select * from {{ source('rules', 'rule_sets') }}
),

chosen as (
    select
        data_years.year,
        groups.body_group,
        max(rule_sets.from_year) filter (where rule_sets.from_year <= data_years.year) as from_year
    from data_years
    cross join (select distinct body_group from rule_sets) as groups
    left join rule_sets on rule_sets.body_group = groups.body_group
    group by data_years.year, groups.body_group
)

select
    chosen.year,
    chosen.body_group,
    rule_sets.* exclude (body_group, source_file)
from chosen
inner join rule_sets
    on rule_sets.body_group = chosen.body_group
   and rule_sets.from_year is not distinct from chosen.from_year
