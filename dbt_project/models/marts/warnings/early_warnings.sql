-- 预警（DESIGN §5 early warning）：在季度内的某一天 T，按截至 T 已报送的数据，列出
--   veto      不整改就会在季末超过一票否决天数的问题（已知台账：上季度末的整改台账）
--   task_due  本季度到期、截至 T 最新报送状态仍不是“已完成”的重点任务
--   snail     按当前指标值预计综合得分处于蜗牛线（本组倒数第 N 名的得分，N 为规则的蜗牛数）
--             或以下的对象；未报送的任务按“未按序推进”计
--   ledger    截至 T 仍未报送上季度重点任务推进台账的单位
-- 每条预警写明对象、原因和“在此日期前处理仍有效”的日期（act_by）。
-- 计算日 T：每季度每月的 1 日和 16 日（一个季度 6 天）；dbt 变量 warning_as_of（YYYY-MM-DD）
-- 可另加一天，例如 `dbt build --vars '{warning_as_of: 2025-11-20}'`。
-- 阈值全部取自规则（一票否决天数、蜗牛数、权重；有 warning_snail_margin 时用它放宽蜗牛线）。
{%- set rules = ref('int_rules__ranking_in_force') %}
{%- set ns = namespace(margin=false) %}
{%- if execute %}
{%- set cols = adapter.get_columns_in_relation(rules) | map(attribute='name') | map('lower') | list %}
{%- set ns.margin = 'warning_snail_margin' in cols %}
{%- endif %}
{%- set extra_day = var('warning_as_of', none) %}

with quarters as (
    select
        quarters.*,
        previous.quarter_index as previous_index,
        previous.report_due_date as previous_report_due_date
    from {{ ref('dim_quarters') }} as quarters
    left join {{ ref('dim_quarters') }} as previous on previous.quarter = quarters.previous_quarter
),

days as (
    select quarters.*, cast(quarters.quarter_start_date + to_months(o.m) + to_days(o.d) as date) as as_of
    from quarters
    cross join (values (0, 0), (0, 15), (1, 0), (1, 15), (2, 0), (2, 15)) as o(m, d)
    {%- if extra_day %}
    union
    select quarters.*, cast('{{ extra_day }}' as date) as as_of
    from quarters
    where cast('{{ extra_day }}' as date) between quarters.quarter_start_date and quarters.quarter_end_date
    {%- endif %}
),

rules as (
    select
        year,
        body_group,
        veto_days,
        snails,
        {{ 'warning_snail_margin' if ns.margin else '0.0' }} as snail_margin
    from {{ rules }}
),

bodies as (
    select body_group, body_code, body_name from {{ ref('dim_bodies') }}
),

-- the issue ledger known at T: as it stood at the previous quarter end
known_issues as (
    select days.quarter, days.as_of, days.year, days.quarter_end_date, issues.*  exclude (quarter, quarter_end_date, quarter_index)
    from days
    inner join {{ ref('fct_issue_quarters') }} as issues on issues.quarter = days.previous_quarter
),

veto as (
    select
        k.quarter,
        k.as_of,
        'veto'                                                  as kind,
        1                                                       as kind_order,
        k.body_group,
        k.body_code,
        k.issue_code                                            as item_code,
        '问题' || k.issue_code || coalesce('（' || k.category || '）', '') || '整改时限 '
            || strftime(k.deadline, '%Y-%m-%d') || '，至季末 ' || strftime(k.quarter_end_date, '%Y-%m-%d')
            || ' 将逾期 ' || date_diff('day', k.deadline, k.quarter_end_date) || ' 天，超过一票否决的 '
            || r.veto_days || ' 天；季末前整改完成可免于否决'     as reason,
        k.quarter_end_date                                      as act_by,
        cast(date_diff('day', k.deadline, k.quarter_end_date) as double) as value
    from known_issues as k
    inner join rules as r on r.year = k.year and r.body_group = k.body_group
    where not k.is_rectified
      and k.body_code is not null
      and date_diff('day', k.deadline, k.quarter_end_date) > r.veto_days
),

-- the latest task report known at T (by its 填报日期), any quarter up to this one
known_reports as (
    select
        days.quarter,
        days.as_of,
        tq.task_code,
        tq.status,
        tq.report_date
    from days
    inner join {{ ref('fct_task_quarters') }} as tq
        on tq.quarter_index <= days.quarter_index
       and tq.is_reported
       and tq.report_date <= days.as_of
    qualify row_number() over (partition by days.quarter, days.as_of, tq.task_code
                               order by tq.quarter_index desc, tq.report_date desc) = 1
),

quarter_tasks as (
    select days.quarter, days.as_of, days.year, days.quarter_start_date, days.quarter_end_date, days.report_due_date,
           tq.task_code, tq.owner_group, tq.owner_code, tq.deadline,
           coalesce(kr.status, '未报送')                          as known_status
    from days
    inner join {{ ref('fct_task_quarters') }} as tq on tq.quarter = days.quarter and tq.is_active
    left join known_reports as kr
        on kr.quarter = days.quarter and kr.as_of = days.as_of and kr.task_code = tq.task_code
),

task_due as (
    select
        t.quarter,
        t.as_of,
        'task_due'                                              as kind,
        2                                                       as kind_order,
        t.owner_group                                           as body_group,
        t.owner_code                                            as body_code,
        t.task_code                                             as item_code,
        '任务' || t.task_code || coalesce('“' || dim.task_name || '”', '') || '完成时限 '
            || strftime(t.deadline, '%Y-%m-%d') || '，截至 ' || strftime(t.as_of, '%Y-%m-%d') || ' 最新报送状态为“'
            || t.known_status || '”'                             as reason,
        case when t.deadline >= t.as_of then t.deadline else t.quarter_end_date end as act_by,
        cast(null as double)                                    as value
    from quarter_tasks as t
    left join {{ ref('dim_tasks') }} as dim on dim.task_code = t.task_code
    where t.deadline between t.quarter_start_date and t.quarter_end_date
      and t.known_status <> '已完成'
      and t.owner_code is not null
),

-- projected indicator values at T (0-100 scores, as the scorecard scores them)
proj_task as (
    select quarter, as_of, owner_group as body_group, owner_code as body_code,
           count(*) filter (where known_status in ('已完成', '按序推进')) as num, count(*) as den
    from quarter_tasks
    where owner_code is not null
    group by all
),

proj_rect as (
    select quarter, as_of, body_group, body_code,
           count(*) filter (where is_rectified and deadline <= quarter_end_date) as num,
           count(*) filter (where deadline <= quarter_end_date)                  as den
    from known_issues
    where body_code is not null
    group by all
),

proj_values as (
    select quarter, as_of, body_group, body_code, 'task_on_schedule' as indicator,
           100.0 * num / nullif(den, 0) as score, num, den
    from proj_task
    union all
    select quarter, as_of, body_group, body_code, 'rectification', 100.0 * num / nullif(den, 0), num, den
    from proj_rect
    union all
    -- the latest published values: unit coverage and timeliness of the previous quarter,
    -- satisfaction as the quarter's scorecard scores it (annual survey waves)
    select days.quarter, days.as_of, 'county', c.region_code, 'unit_coverage', 100.0 * c.coverage_rate,
           c.units_standard, c.units_registered
    from days
    inner join {{ ref('kpi_unit_coverage') }} as c
        on c.quarter = days.previous_quarter and c.unit_type = '全部' and c.region_level = '县'
    union all
    select days.quarter, days.as_of, k.owner_group, k.owner_code, 'timeliness', 100.0 * k.timeliness_rate,
           k.reports_on_time, k.reports_due
    from days
    inner join {{ ref('kpi_task_progress') }} as k on k.quarter = days.previous_quarter
    union all
    select days.quarter, days.as_of, s.body_group, s.body_code, 'satisfaction', s.satisfaction_score,
           null, null
    from days
    inner join {{ ref('scorecard_quarterly') }} as s on s.quarter = days.quarter
),

proj_weighted as (
    select
        v.*,
        w.indicator_name,
        w.sort_order,
        w.weight,
        sum(cast(w.weight as decimal(9, 4))) over (partition by v.quarter, v.as_of, v.body_group, v.body_code)
                                                                 as weights_present
    from proj_values as v
    inner join days on days.quarter = v.quarter and days.as_of = v.as_of
    inner join {{ ref('int_rules__weights_in_force') }} as w
        on w.year = days.year and w.body_group = v.body_group and w.indicator = v.indicator
    where v.score is not null
),

weighted as (
    select
        v.quarter, v.as_of, v.body_group, v.body_code,
        -- the scorecard's own composite formula (macro composite_contribution), summed as exact
        -- decimals: two builds of the same data give identical warnings
        cast(sum({{ composite_contribution('v.score', 'v.weight', 'v.weights_present') }}) as double) as projected,
        string_agg(v.indicator_name || ' ' || case when v.indicator = 'satisfaction' then {{ score_text('v.score') }} else {{ fixed_text('v.score', 1) }} || '%' end ||
                   case when v.den is not null then '（' || v.num || '/' || v.den || '）' else '' end,
                   '、' order by v.sort_order)                    as parts
    from proj_weighted as v
    group by all
),

lines as (
    select
        weighted.*,
        r.snails,
        r.snail_margin,
        days.report_due_date,
        row_number() over (partition by weighted.quarter, weighted.as_of, weighted.body_group
                           order by weighted.projected, weighted.body_code) as from_bottom
    from weighted
    inner join days on days.quarter = weighted.quarter and days.as_of = weighted.as_of
    inner join rules as r on r.year = days.year and r.body_group = weighted.body_group
),

snail_line as (
    select quarter, as_of, body_group, max(projected) filter (where from_bottom <= snails) as line
    from lines
    group by all
),

snail as (
    select
        l.quarter,
        l.as_of,
        'snail'                                                 as kind,
        3                                                       as kind_order,
        l.body_group,
        l.body_code,
        cast(null as varchar)                                   as item_code,
        '按截至 ' || strftime(l.as_of, '%Y-%m-%d') || ' 已报送的数据，预计综合得分 ' || {{ score_text('l.projected') }}
            || ' 分，处于蜗牛线（本组倒数第 ' || l.snails || ' 名 ' || {{ score_text('s.line') }} || ' 分）'
            || case when l.projected < s.line then '以下' else '' end || '；' || l.parts
            || '（未报送的任务按未按序推进计）'                   as reason,
        l.report_due_date                                       as act_by,
        l.projected                                             as value
    from lines as l
    inner join snail_line as s using (quarter, as_of, body_group)
    where l.projected <= s.line + l.snail_margin
),

ledger as (
    select
        days.quarter,
        days.as_of,
        'ledger'                                                as kind,
        4                                                       as kind_order,
        tq.owner_group                                          as body_group,
        tq.owner_code                                           as body_code,
        days.previous_quarter                                   as item_code,
        '截至 ' || strftime(days.as_of, '%Y-%m-%d') || ' 未报送 ' || days.previous_quarter || ' 重点任务推进台账（应于 '
            || strftime(days.previous_report_due_date, '%Y-%m-%d') || ' 前报送'
            || case when days.as_of > days.previous_report_due_date
                    then '，已逾期 ' || date_diff('day', days.previous_report_due_date, days.as_of) || ' 天' else '' end
            || '）'                                              as reason,
        greatest(days.previous_report_due_date, days.as_of)     as act_by,
        cast(count(*) as double)                                as value
    from days
    inner join {{ ref('fct_task_quarters') }} as tq on tq.quarter = days.previous_quarter and tq.is_active
    where tq.owner_code is not null
    group by all
    having not coalesce(bool_or(tq.is_reported and tq.first_report_date <= days.as_of), false)
),

all_warnings as (
    select * from veto
    union all select * from task_due
    union all select * from snail
    union all select * from ledger
)

select
    w.quarter,
    w.as_of,
    w.kind,
    w.kind_order,
    case w.kind
        when 'veto' then '将触发一票否决的问题'
        when 'task_due' then '本季度到期未完成的任务'
        when 'snail' then '预计处于蜗牛线的对象'
        when 'ledger' then '未报送上季度台账的单位'
    end                                                         as kind_label,
    w.body_group,
    w.body_code,
    bodies.body_name,
    w.item_code,
    w.reason,
    cast(w.act_by as date)                                      as act_by,
    w.value
from all_warnings as w
left join bodies on bodies.body_group = w.body_group and bodies.body_code = w.body_code
