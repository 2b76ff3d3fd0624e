with current_files as ({{ current_file_ids() }})

select
    p.task_code,
    p.task_name,
    p.reporter_name,
    p.owner_code                  as reporter_code,
    p.quarter,
    p.status,
    p.progress_pct,
    p.progress_text,
    p.problems,
    p.next_steps,
    p.evidence_count,
    p.report_date,
    p.file_id,
    p.sheet,
    p.row_number,
    p.loaded_at
from {{ source('raw', 'task_progress') }} as p
where p.file_id in (select file_id from current_files)
