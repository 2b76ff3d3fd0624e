-- The quarters of the programme, from the first to the last seen in any quarterly source.
select
    quarter,
    year,
    quarter_num,
    quarter_index,
    quarter_start_date,
    quarter_end_date,
    due.report_due_date,
    previous_quarter,
    cast(year as varchar) || '年第' || ['一', '二', '三', '四'][quarter_num] || '季度' as quarter_label
from {{ ref('int_quarters__spine') }}
left join {{ ref('int_quarters__report_due') }} as due using (quarter)
