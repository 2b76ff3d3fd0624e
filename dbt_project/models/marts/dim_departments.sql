-- City departments with the number of tasks they lead; those leading at least one task are
-- assessed (dim_bodies, group department).
with departments as (
    select * from {{ ref('int_departments__latest') }}
),

owned as (
    select owner_code, count(*) as tasks_owned
    from {{ ref('int_tasks__latest') }}
    where owner_group = 'department'
    group by owner_code
)

select
    departments.dept_code,
    departments.dept_name,
    departments.short_name,
    coalesce(departments.short_name, departments.dept_name) as display_name,
    departments.aliases,
    coalesce(owned.tasks_owned, 0)                          as tasks_owned,
    coalesce(owned.tasks_owned, 0) > 0                      as is_assessed,
    departments.file_id,
    departments.sheet,
    departments.row_number
from departments
left join owned on owned.owner_code = departments.dept_code
