-- The quarterly scorecard (季度排名): one row per group, assessed body and quarter with the
-- composite score, rank, red flag / snail, veto, 约谈, margin to the line, and everything needed
-- to explain it — the indicator scores, configured and renormalised weights, the rates with
-- their numerators and denominators, the rules version — plus a Chinese explanation
-- (flag_note). See int_scorecard__composite and int_scorecard__ranked for the rules.
with ranked as (
    select * from {{ ref('int_scorecard__ranked') }}
),

previous_flags as (
    select body_group, body_code, quarter, flag from ranked
),

with_talks as (
    select
        ranked.*,
        previous_flags.flag                                         as previous_flag,
        -- 约谈: a snail in this quarter and in the quarter before
        coalesce(ranked.flag = '蜗牛' and previous_flags.flag = '蜗牛', false) as talk_required
    from ranked
    inner join {{ ref('dim_quarters') }} as quarters on quarters.quarter = ranked.quarter
    left join previous_flags
        on previous_flags.body_group = ranked.body_group
       and previous_flags.body_code = ranked.body_code
       and previous_flags.quarter = quarters.previous_quarter
)

select
    with_talks.body_group,
    with_talks.body_code,
    bodies.body_name,
    with_talks.quarter,
    with_talks.year,
    with_talks.composite_score,
    with_talks.rank,
    with_talks.bodies_ranked,
    with_talks.flag,
    with_talks.veto,
    with_talks.talk_required,
    with_talks.margin,
    with_talks.near_tie,
    with_talks.missing_indicators,
    with_talks.rules_version,
    with_talks.task_score,
    with_talks.coverage_score,
    with_talks.rectification_score,
    with_talks.timeliness_score,
    with_talks.satisfaction_score,
    with_talks.task_weight,
    with_talks.coverage_weight,
    with_talks.rectification_weight,
    with_talks.timeliness_weight,
    with_talks.satisfaction_weight,
    with_talks.task_weight_used,
    with_talks.coverage_weight_used,
    with_talks.rectification_weight_used,
    with_talks.timeliness_weight_used,
    with_talks.satisfaction_weight_used,
    with_talks.weight_total_used,
    with_talks.task_rate,
    with_talks.tasks_on_schedule,
    with_talks.tasks_active,
    with_talks.coverage_rate,
    with_talks.units_standard,
    with_talks.units_registered,
    with_talks.rectification_rate,
    with_talks.issues_rectified,
    with_talks.issues_due,
    with_talks.overdue_open,
    with_talks.max_days_overdue,
    with_talks.timeliness_rate,
    with_talks.reports_on_time,
    with_talks.reports_due,
    with_talks.satisfaction_index,
    with_talks.satisfaction_wave,
    with_talks.satisfaction_respondents,
    with_talks.satisfaction_sample_sufficient,
    with_talks.previous_flag,
    with_talks.red_flags_quota,
    with_talks.snails_quota,
    with_talks.veto_days,
    with_talks.near_tie_margin,
    concat_ws('；',
        '第' || with_talks.rank || '名/共' || with_talks.bodies_ranked || '个',
        case when with_talks.composite_score is null then '无任何指标数据' end,
        case with_talks.flag
            when '红旗' then '红旗（与最接近的未获红旗对象相差' || {{ score_text('with_talks.margin') }} || '分）'
            when '蜗牛' then '蜗牛（与最接近的非蜗牛对象相差' || {{ score_text('with_talks.margin') }} || '分）'
        end,
        case when with_talks.near_tie then '边界接近' end,
        case when with_talks.veto
             then '一票否决：有问题逾期' || with_talks.max_days_overdue || '天未整改（超过' || with_talks.veto_days || '天），不能评红旗' end,
        case when with_talks.talk_required then '连续两个季度蜗牛，需约谈' end,
        case when with_talks.missing_indicators is not null
             then '缺少指标：' || with_talks.missing_indicators || '（其余指标权重按比例放大）' end,
        case when with_talks.satisfaction_sample_sufficient = false
             then '满意度样本不足（有效样本' || with_talks.satisfaction_respondents || '人），不参与评分' end
    )                                                               as flag_note
from with_talks
left join {{ ref('dim_bodies') }} as bodies
    on bodies.body_group = with_talks.body_group
   and bodies.body_code = with_talks.body_code
