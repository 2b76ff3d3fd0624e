-- Quarterly increments of the case figures for each region that submitted them.
--   当季 figures are the quarter's own and are used as they are.
--   累计 (year-to-date) figures: Q1 = itself; Qn = YTD(n) − YTD(n−1) of the same year, where
--   YTD(n−1) is the previous quarter's 累计 figure or, failing that, the sum of all earlier
--   quarters' 当季 figures of the year.
--   A YTD figure lower than the previous one is a data error (DESIGN §4), never a negative
--   increment: the increment is NULL and ytd_decrease is true. A missing previous YTD leaves
--   the increment NULL with ytd_gap = true.
{%- set metrics = case_metrics() %}

with figures as (
    select * from {{ ref('int_cases__latest') }}
),

typed_figures as (
    select
        region_code, quarter, year, quarter_num, scope, file_id,
        {%- for m in metrics %}
        cast({{ m[0] }} as double) as {{ m[0] }}{{ "," if not loop.last }}
        {%- endfor %}
    from figures
),

long_figures as (
    -- one row per region, quarter, scope and figure, so the arithmetic is written once
    select *
    from typed_figures
    unpivot include nulls (
        figure for metric in ({% for m in metrics %}{{ m[0] }}{{ ", " if not loop.last }}{% endfor %})
    )
),

per_quarter as (
    select
        region_code,
        year,
        quarter_num,
        quarter,
        metric,
        max(figure) filter (where scope = '累计')        as ytd_figure,
        max(figure) filter (where scope = '当季')        as quarter_figure,
        bool_or(scope = '累计')                          as has_ytd,
        bool_or(scope = '当季')                          as has_quarter
    from long_figures
    group by region_code, year, quarter_num, quarter, metric
),

with_previous as (
    select
        *,
        lag(quarter_num) over same_year                  as previous_quarter_num,
        lag(ytd_figure) over same_year                   as previous_ytd_figure,
        -- Q1's own figure is also its year-to-date figure, whatever the scope
        sum(quarter_figure) over (same_year rows between unbounded preceding and 1 preceding)
                                                         as earlier_quarter_sum,
        count(quarter_figure) over (same_year rows between unbounded preceding and 1 preceding)
                                                         as earlier_quarter_count
    from per_quarter
    window same_year as (partition by region_code, metric, year order by quarter_num)
),

previous_ytd as (
    select
        *,
        case
            when quarter_num = 1 then 0
            when previous_quarter_num = quarter_num - 1 and previous_ytd_figure is not null
                then previous_ytd_figure
            when earlier_quarter_count = quarter_num - 1 then earlier_quarter_sum
        end                                              as previous_ytd
    from with_previous
),

increments as (
    select
        *,
        case
            when has_quarter then quarter_figure
            when ytd_figure < previous_ytd then null
            -- rounded: 万元 figures with one or two decimals must not come out as 10.099999…
            else round(ytd_figure - previous_ytd, 4)
        end                                              as increment,
        not has_quarter and ytd_figure < previous_ytd    as is_decrease,
        not has_quarter and ytd_figure is not null and previous_ytd is null as is_gap
    from previous_ytd
)

select
    region_code,
    quarter,
    year,
    quarter_num,
    case
        when bool_and(has_quarter) then '当季'
        when bool_and(not has_quarter) then '累计'
        else '混合'
    end                                                  as scope_used,
    {%- for m in metrics %}
    {%- if m[2] %}
    cast(max(increment) filter (where metric = '{{ m[0] }}') as bigint) as {{ m[0] }},
    {%- else %}
    max(increment) filter (where metric = '{{ m[0] }}') as {{ m[0] }},
    {%- endif %}
    {%- endfor %}
    coalesce(bool_or(is_decrease), false)                as ytd_decrease,
    string_agg(
        case metric {% for m in metrics %}when '{{ m[0] }}' then '{{ m[1] }}' {% endfor %}end,
        '、' order by metric
    ) filter (where is_decrease)                         as ytd_decrease_items,
    coalesce(bool_or(is_gap), false)                     as ytd_gap
from increments
group by region_code, quarter, year, quarter_num
