-- The key-task catalogue with the owner's name.
with tasks as (
    select * from {{ ref('int_tasks__latest') }}
)

select
    tasks.task_code,
    tasks.task_name,
    tasks.area,
    tasks.owner_code,
    tasks.owner_group,
    coalesce(departments.display_name, regions.region_name, tasks.lead_unit_name) as owner_name,
    tasks.lead_unit_name,
    tasks.co_units,
    tasks.deadline,
    tasks.issued_date,
    tasks.acceptance_standard,
    tasks.responsible_person,
    tasks.file_id,
    tasks.sheet,
    tasks.row_number
from tasks
left join {{ ref('dim_departments') }} as departments
    on tasks.owner_group = 'department' and departments.dept_code = tasks.owner_code
left join {{ ref('dim_regions') }} as regions
    on tasks.owner_group = 'county' and regions.region_code = tasks.owner_code
