-- The ranking rules in force for every year the warehouse has data for (quarters and survey
-- waves), per assessment group. The row used for a year is the rules row of that year or, if
-- there is none, of the latest earlier year; a year before the first rules year falls back
-- to the first one. Editing 2026's row therefore never touches a 2025 figure.
with data_years as (
    select distinct year from {{ ref('int_quarters__spine') }}
    union
    select distinct wave_year from {{ ref('int_survey__responses') }} where wave_year is not null
),

rules as (
    select * from {{ ref('ranking_rules') }}
),

rule_years as (
    select distinct body_group, year as rules_year from rules
),

chosen as (
    select
        data_years.year,
        rule_years.body_group,
        coalesce(
            max(rule_years.rules_year) filter (where rule_years.rules_year <= data_years.year),
            min(rule_years.rules_year)
        ) as rules_year
    from data_years
    cross join rule_years
    group by data_years.year, rule_years.body_group
)

select
    chosen.year,
    chosen.body_group,
    chosen.rules_year,
    rules.rules_version,
    rules.red_flags,
    rules.snails,
    rules.veto_days,
    rules.near_tie_margin,
    rules.red_flag_bonus,
    rules.snail_penalty,
    rules.excellent_min_score,
    rules.good_min_score,
    rules.pass_min_score,
    rules.excellent_quota,
    rules.min_sample
from chosen
inner join rules
    on rules.year = chosen.rules_year
   and rules.body_group = chosen.body_group
