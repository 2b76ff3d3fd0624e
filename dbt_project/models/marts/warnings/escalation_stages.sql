-- 督办升级阶段（DESIGN §5）：每个年度、组别在用的阶段及其逾期天数区间，全部取自规则配置
-- （remind_max_days / supervise_max_days / caution_max_days）。规则表还没有这些值时本表为空：
-- 这里不写任何默认天数，页面和通报据此只列逾期天数、不分阶段。
{%- set rules = ref('int_rules__ranking_in_force') %}
{%- set needed = ['remind_max_days', 'supervise_max_days', 'caution_max_days'] %}
{%- set ns = namespace(ok=execute) %}
{%- if execute %}
{%- set cols = adapter.get_columns_in_relation(rules) | map(attribute='name') | map('lower') | list %}
{%- for n in needed %}{% if n not in cols %}{% set ns.ok = false %}{% endif %}{% endfor %}
{%- endif %}

with rules as (
    select * from {{ rules }}
)
{%- if ns.ok %},

stages as (
    select year, body_group, rules_version, 1 as stage_order, '提醒' as stage,
           1 as min_days, remind_max_days as max_days
    from rules
    union all
    select year, body_group, rules_version, 2, '督办', remind_max_days + 1, supervise_max_days from rules
    union all
    select year, body_group, rules_version, 3, '告诫', supervise_max_days + 1, caution_max_days from rules
    union all
    select year, body_group, rules_version, 4, '问责', caution_max_days + 1, null from rules
)

select
    year,
    body_group,
    rules_version,
    stage_order,
    stage,
    cast(min_days as integer) as min_days,
    cast(max_days as integer) as max_days,
    case when max_days is null then '逾期' || min_days - 1 || '天以上'
         else '逾期' || min_days || '至' || max_days || '天' end as range_text
from stages
where max_days is null or max_days >= min_days
{%- else %}

select
    year,
    body_group,
    rules_version,
    cast(null as integer) as stage_order,
    cast(null as varchar) as stage,
    cast(null as integer) as min_days,
    cast(null as integer) as max_days,
    cast(null as varchar) as range_text
from rules
where false
{%- endif %}
