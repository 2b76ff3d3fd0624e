-- Key tasks per quarter: the status in force, and the flags the task KPIs count
-- (see int_tasks__quarter_status). file_id/sheet/row_number point at the report used.
select * from {{ ref('int_tasks__quarter_status') }}
