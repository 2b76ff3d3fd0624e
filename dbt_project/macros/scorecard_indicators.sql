{#- The indicators a rules version may weight (qinglian/rules INDICATORS holds their names and order):
    key       indicator key in the rules configuration
    prefix    column prefix in the scorecard (task_score, task_weight, task_weight_used)
    value     the indicator's value column in int_scorecard__indicator_values (a rate, or the index)
    score     its 0-100 score
    num, den  the numerator and denominator the value came from (the index: sum of scores / valid answers)
    definition  the formula in Chinese; may use the rules columns of int_rules__ranking_in_force
    Adding an indicator = one entry here + its value columns + its name in qinglian/rules. -#}
{% macro scorecard_indicators() -%}
    {{ return([
        {'key': 'task_on_schedule', 'prefix': 'task', 'value': 'task_rate', 'score': 'task_rate * 100',
         'num': 'tasks_on_schedule', 'den': 'tasks_active',
         'definition': "'按序推进或已完成的任务 / 本季度在办任务（未报送按未按序推进计）'"},
        {'key': 'unit_coverage', 'prefix': 'coverage', 'value': 'coverage_rate', 'score': 'coverage_rate * 100',
         'num': 'units_standard', 'den': 'units_registered',
         'definition': "'季末已达标及示范单元 / 登记单元（本县区全部类型）'"},
        {'key': 'rectification', 'prefix': 'rectification', 'value': 'rectification_rate',
         'score': 'rectification_rate * 100', 'num': 'issues_rectified', 'den': 'issues_due',
         'definition': "'季末前已整改 / 整改时限在季末前的问题'"},
        {'key': 'timeliness', 'prefix': 'timeliness', 'value': 'timeliness_rate', 'score': 'timeliness_rate * 100',
         'num': 'reports_on_time', 'den': 'reports_due',
         'definition': "'季末后' || rules.report_deadline_days || '日内报送的进展报告 / 应报送'"},
        {'key': 'satisfaction', 'prefix': 'satisfaction', 'value': 'satisfaction_index', 'score': 'satisfaction_index',
         'num': 'satisfaction_score_sum', 'den': 'satisfaction_valid_answers',
         'definition': "coalesce(satisfaction_wave || '年度测评：', '') || '有效回答得分之和 / 有效回答数（很满意100、满意80、基本满意60、不满意30、很不满意0，不了解不计）'"
                       " || case when satisfaction_sample_sufficient = false then '；有效受访' || satisfaction_respondents || '人，少于' || rules.min_sample || '人，样本不足不参与评分' else '' end"},
    ]) }}
{%- endmacro %}

{#- The one formula of the composite (DESIGN §5): an indicator's contribution is its 0-100 score
    times its rule weight over the weights of the indicators with data, rounded to 4 decimals as a
    DECIMAL; the composite is the exact sum of the contributions. Used by the scorecard
    (int_scorecard__contributions) and by the early warning's projected composite. -#}
{% macro composite_contribution(score, weight, weights_present) -%}
    cast(round({{ score }} * cast({{ weight }} as double) / cast({{ weights_present }} as double), 4) as decimal(9, 4))
{%- endmacro %}
