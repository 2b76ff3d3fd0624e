-- Case statistics per scope and quarter (案件统计 page cards, forms chart and per-quarter totals): the
-- scope region's own row of kpi_cases, which already sums every region below it (a county whose
-- year-to-date figure went down leaves the roll-up NULL, never 0), with its first-form share and
-- cases per 10,000 residents.
select
    scopes.scope_code,
    scopes.scope_name,
    scopes.is_root,
    cases.* exclude (region_code)
from {{ ref('int_regions__scopes') }} as scopes
inner join {{ ref('kpi_cases') }} as cases
    on cases.region_code = scopes.scope_code
