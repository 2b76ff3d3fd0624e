-- Assessed bodies (考核对象), two groups never ranked together (DESIGN §2):
--   county      every county-level region (区划层级 县)
--   department  every department that leads at least one task
select
    'county'                    as body_group,
    '县区'                      as body_group_name,
    region_code                 as body_code,
    region_name                 as body_name,
    region_code                 as region_code,
    cast(null as varchar)       as dept_code
from {{ ref('dim_regions') }}
where region_level = '县'

union all

select
    'department'                as body_group,
    '市直部门'                  as body_group_name,
    dept_code                   as body_code,
    display_name                as body_name,
    cast(null as varchar)       as region_code,
    dept_code                   as dept_code
from {{ ref('dim_departments') }}
where is_assessed
