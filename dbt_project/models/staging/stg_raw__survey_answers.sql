with current_files as ({{ current_file_ids() }})

select
    a.response_id,
    a.question,
    a.answer,
    a.answer_code,
    -- DESIGN §4: 很满意 100, 满意 80, 基本满意 60, 不满意 30, 很不满意 0; 不了解 (0) is not a valid answer.
    case a.answer_code
        when 5 then 100.0
        when 4 then 80.0
        when 3 then 60.0
        when 2 then 30.0
        when 1 then 0.0
    end                           as answer_score,
    a.answer_code between 1 and 5 as is_valid,
    a.answer_code between 3 and 5 as is_satisfied,
    a.file_id,
    a.sheet,
    a.row_number,
    a.loaded_at
from {{ source('raw', 'survey_answers') }} as a
where a.file_id in (select file_id from current_files)
