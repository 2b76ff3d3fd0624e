-- The root scope of the overview counts every assessed body's tasks and issues (departments
-- included): its totals equal the sums over kpi_task_progress and kpi_rectification.
with tasks as (
    select quarter, sum(tasks_active) as tasks_active, sum(tasks_due) as tasks_due
    from {{ ref('kpi_task_progress') }} group by quarter
),

issues as (
    select quarter, sum(issues_due) as issues_due, sum(overdue_open) as overdue_open
    from {{ ref('kpi_rectification') }} group by quarter
)

select headline.quarter, headline.tasks_active, tasks.tasks_active as expected_tasks_active
from {{ ref('kpi_headline_quarterly') }} as headline
left join tasks using (quarter)
left join issues using (quarter)
where headline.is_root
  and (headline.tasks_active is distinct from tasks.tasks_active
       or headline.tasks_due is distinct from tasks.tasks_due
       or headline.issues_due is distinct from issues.issues_due
       or headline.overdue_open is distinct from issues.overdue_open)
