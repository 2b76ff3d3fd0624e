-- Every submitted file with its outcome; is_current marks the files whose rows staging keeps.
select
    file_id,
    path                          as file_path,
    file_name,
    sha256,
    source,
    submitter                     as submitter_code,
    submitter_name,
    period,
    outcome,
    outcome_label,
    message,
    rows_read,
    rows_loaded,
    rows_rejected,
    loaded_at,
    superseded_by,
    (superseded_by is null and outcome <> 'rejected') as is_current
from {{ source('raw', 'ingest_files') }}
