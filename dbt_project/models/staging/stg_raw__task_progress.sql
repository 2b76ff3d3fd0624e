with current_files as ({{ current_file_ids() }}),

-- A file stored by the upload portal carries the time it was received (Beijing time) in its generated
-- name, <submitter>_<period>_<YYYYMMDDTHHMMSS>_<sha12>.<ext> (ingest/landing_writer.py, RECEIVED_NAME_RE).
-- That date is the submission date of a row that states no 填报日期 (DESIGN §8). The hash part must be
-- the file's own sha256, so a file merely named like one claims nothing.
received as (
    select
        file_id,
        cast(strptime(regexp_extract(path, '_([0-9]{8}T[0-9]{6})_([0-9a-f]{12})(-[0-9]+)?\.(xlsx|xls|csv)$', 1),
                      '%Y%m%dT%H%M%S') as date) as received_date
    from {{ source('raw', 'ingest_files') }}
    where regexp_extract(path, '_([0-9]{8}T[0-9]{6})_([0-9a-f]{12})(-[0-9]+)?\.(xlsx|xls|csv)$', 2) = left(sha256, 12)
)

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
    coalesce(p.report_date, r.received_date) as report_date,
    p.file_id,
    p.sheet,
    p.row_number,
    p.loaded_at
from {{ source('raw', 'task_progress') }} as p
left join received as r on r.file_id = p.file_id
where p.file_id in (select file_id from current_files)
