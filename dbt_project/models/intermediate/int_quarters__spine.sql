-- Every quarter from the first to the last one seen in any quarterly source (task progress,
-- units, inspections, cases), without gaps: a quarter in which nobody reported still gets
-- its row so that "previous quarter" and carry-forward stay well defined.
with seen as (
    select quarter from {{ ref('stg_raw__task_progress') }}
    union
    select quarter from {{ ref('stg_raw__units') }}
    union
    select quarter from {{ ref('stg_raw__inspections') }}
    union
    select quarter from {{ ref('stg_raw__cases') }}
),

bounds as (
    select
        min({{ quarter_index('quarter') }}) as first_index,
        max({{ quarter_index('quarter') }}) as last_index
    from seen
    where regexp_full_match(quarter, '[0-9]{4}Q[1-4]')
),

spine as (
    select unnest(range(first_index, last_index + 1)) as quarter_index
    from bounds
    where first_index is not null
)

select
    quarter_index,
    {{ quarter_label('quarter_index') }}                        as quarter,
    cast(quarter_index // 4 as integer)                         as year,
    cast(quarter_index % 4 + 1 as integer)                      as quarter_num,
    make_date(cast(quarter_index // 4 as integer), cast(quarter_index % 4 * 3 + 1 as integer), 1)
                                                                as quarter_start_date,
    -- D in DESIGN §4: every "at quarter end" figure is taken at this date
    last_day(make_date(cast(quarter_index // 4 as integer), cast(quarter_index % 4 * 3 + 3 as integer), 1))
                                                                as quarter_end_date,
    {{ quarter_label('quarter_index - 1') }}                    as previous_quarter
from spine
