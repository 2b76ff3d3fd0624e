-- Every assessed body in every quarter with the raw values of the five scorecard indicators.
-- Read from the published KPI marts on purpose: a scorecard can then never disagree with the
-- KPI tables a reader uses to check it.
--   task on-schedule rate, report timeliness   kpi_task_progress (owner = body)
--   unit coverage (all types, own region)      kpi_unit_coverage, unit_type 全部 (counties only)
--   rectification completion rate              kpi_rectification (inspected body = body)
--   satisfaction index                         kpi_satisfaction: the latest wave with year <= the
--                                              quarter's year, used only when sample_sufficient
with body_quarters as (
    select
        bodies.body_group,
        bodies.body_code,
        quarters.quarter,
        quarters.quarter_index,
        quarters.year
    from {{ ref('dim_bodies') }} as bodies
    cross join {{ ref('dim_quarters') }} as quarters
),

task_kpis as (
    select * from {{ ref('kpi_task_progress') }}
),

coverage as (
    select * from {{ ref('kpi_unit_coverage') }} where unit_type = '全部'
),

rectification as (
    select * from {{ ref('kpi_rectification') }}
),

latest_wave as (
    select
        body_quarters.body_group,
        body_quarters.body_code,
        body_quarters.quarter,
        satisfaction.wave,
        satisfaction.satisfaction_index,
        satisfaction.sample_sufficient,
        satisfaction.valid_respondents,
        satisfaction.valid_answers,
        satisfaction.score_sum
    from body_quarters
    inner join {{ ref('kpi_satisfaction') }} as satisfaction
        on satisfaction.region_code = body_quarters.body_code
       and satisfaction.wave_year <= body_quarters.year
    where body_quarters.body_group = 'county'
    qualify row_number() over (
        partition by body_quarters.body_group, body_quarters.body_code, body_quarters.quarter
        order by satisfaction.wave_year desc, satisfaction.wave desc
    ) = 1
)

select
    bq.body_group,
    bq.body_code,
    bq.quarter,
    bq.quarter_index,
    bq.year,
    task_kpis.on_schedule_rate                          as task_rate,
    task_kpis.tasks_on_schedule,
    task_kpis.tasks_active,
    coverage.coverage_rate,
    coverage.units_standard,
    coverage.units_registered,
    rectification.rectification_rate,
    rectification.issues_rectified,
    rectification.issues_due,
    rectification.overdue_open,
    rectification.max_days_overdue,
    task_kpis.timeliness_rate,
    task_kpis.reports_on_time,
    task_kpis.reports_due,
    latest_wave.wave                                    as satisfaction_wave,
    latest_wave.valid_respondents                       as satisfaction_respondents,
    latest_wave.sample_sufficient                       as satisfaction_sample_sufficient,
    -- the index's own numerator and denominator (not the 满意率 counts)
    case when latest_wave.sample_sufficient then latest_wave.score_sum end     as satisfaction_score_sum,
    case when latest_wave.sample_sufficient then latest_wave.valid_answers end as satisfaction_valid_answers,
    -- 样本不足: shown in kpi_satisfaction but not used for ranking (DESIGN §4)
    case when latest_wave.sample_sufficient then latest_wave.satisfaction_index end
                                                        as satisfaction_index
from body_quarters as bq
left join task_kpis
    on task_kpis.owner_group = bq.body_group
   and task_kpis.owner_code = bq.body_code
   and task_kpis.quarter = bq.quarter
left join coverage
    on bq.body_group = 'county'
   and coverage.region_code = bq.body_code
   and coverage.quarter = bq.quarter
left join rectification
    on rectification.body_group = bq.body_group
   and rectification.body_code = bq.body_code
   and rectification.quarter = bq.quarter
left join latest_wave
    on latest_wave.body_group = bq.body_group
   and latest_wave.body_code = bq.body_code
   and latest_wave.quarter = bq.quarter
