-- 清廉单元台账：每个单元在每个季度末的创建阶段，连同报送文件的位置（沿用上季度的标注 carried_forward）。
with units as (
    select * from {{ ref('fct_units') }}
),

files as (
    select file_id, file_path from {{ ref('stg_raw__ingest_files') }}
)

select
    u.region_code,
    u.county_code,
    u.quarter,
    u.unit_code,
    u.unit_name,
    u.unit_type,
    u.stage,
    u.stage_level,
    u.is_carried_forward as carried_forward,
    f.file_path,
    u.sheet,
    u.row_number
from units as u
left join files as f on f.file_id = u.file_id
