-- Case statistics per region and quarter as quarterly increments (see int_cases__quarterly),
-- for every county-level region that reported and rolled up to the city and province.
--   form1_share    first form / (forms 1-4), NULL when the four forms sum to 0
--   cases_per_10k  cases filed / resident population × 10,000 (立案万人比)
-- A roll-up figure is NULL when any county's figure behind it is NULL (a YTD decrease is a
-- data error, and summing around it would understate the total); counties_reporting says how
-- many counties a roll-up row covers. A region's own submission wins over a roll-up.
{%- set metrics = case_metrics() %}

with own_rows as (
    select
        quarterly.*,
        regions.region_level,
        cast(null as bigint) as counties_reporting
    from {{ ref('int_cases__quarterly') }} as quarterly
    inner join {{ ref('dim_regions') }} as regions on regions.region_code = quarterly.region_code
),

rolled_up as (
    select
        closure.ancestor_code                           as region_code,
        own_rows.quarter,
        own_rows.year,
        own_rows.quarter_num,
        case when bool_and(own_rows.scope_used = '累计') then '累计'
             when bool_and(own_rows.scope_used = '当季') then '当季'
             else '混合' end                           as scope_used,
        {%- for m in metrics %}
        -- decimal sums: exact, so the roll-up does not depend on the order of a parallel aggregate
        case when count({{ m[0] }}) = count(*) then cast(sum(cast({{ m[0] }} as decimal(18, 4))) as double) end as {{ m[0] }},
        {%- endfor %}
        bool_or(own_rows.ytd_decrease)                  as ytd_decrease,
        string_agg(distinct own_rows.ytd_decrease_items, '、' order by own_rows.ytd_decrease_items) as ytd_decrease_items,
        bool_or(own_rows.ytd_gap)                       as ytd_gap,
        count(*)                                        as counties_reporting
    from own_rows
    inner join {{ ref('int_region_closure') }} as closure
        on closure.region_code = own_rows.region_code
       and closure.depth > 0
    where own_rows.region_level = '县'
    group by closure.ancestor_code, own_rows.quarter, own_rows.year, own_rows.quarter_num
),

combined as (
    select
        region_code, quarter, year, quarter_num, scope_used,
        {%- for m in metrics %}
        {{ m[0] }},
        {%- endfor %}
        ytd_decrease, ytd_decrease_items, ytd_gap, counties_reporting
    from own_rows

    union all

    select
        rolled_up.region_code, rolled_up.quarter, rolled_up.year, rolled_up.quarter_num, rolled_up.scope_used,
        {%- for m in metrics %}
        rolled_up.{{ m[0] }},
        {%- endfor %}
        rolled_up.ytd_decrease, rolled_up.ytd_decrease_items, rolled_up.ytd_gap, rolled_up.counties_reporting
    from rolled_up
    where not exists (
        select 1 from own_rows
        where own_rows.region_code = rolled_up.region_code and own_rows.quarter = rolled_up.quarter
    )
)

select
    combined.region_code,
    regions.region_name,
    regions.region_level,
    combined.quarter,
    combined.year,
    combined.scope_used,
    cast(combined.petitions as bigint)                              as petitions,
    cast(combined.clues as bigint)                                  as clues,
    cast(combined.talks as bigint)                                  as talks,
    cast(combined.cases_filed as bigint)                            as cases_filed,
    cast(combined.punished as bigint)                               as punished,
    cast(combined.form1 as bigint)                                  as form1,
    cast(combined.form2 as bigint)                                  as form2,
    cast(combined.form3 as bigint)                                  as form3,
    cast(combined.form4 as bigint)                                  as form4,
    combined.form1 / nullif(combined.form1 + combined.form2 + combined.form3 + combined.form4, 0)
                                                                    as form1_share,
    round(combined.cases_filed / nullif(regions.population, 0) * 10000, 6)
                                                                    as cases_per_10k,
    cast(combined.detained as bigint)                               as detained,
    cast(combined.transferred as bigint)                            as transferred,
    combined.recovered_10k_yuan,
    regions.population,
    combined.ytd_decrease,
    combined.ytd_decrease_items,
    combined.ytd_gap,
    combined.counties_reporting
from combined
inner join {{ ref('dim_regions') }} as regions on regions.region_code = combined.region_code
