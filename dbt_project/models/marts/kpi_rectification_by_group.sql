-- Rectification per scope, assessment group and quarter (巡察整改 page trend): the root scope sums every
-- body of the group, a county scope its own row. Rates are ratios of the summed counts (NULL when no
-- issue is due), so a page draws the trend without adding or dividing anything.
with scopes as (
    select * from {{ ref('int_regions__scopes') }}
)

select
    scopes.scope_code,
    scopes.is_root,
    rect.body_group,
    rect.quarter,
    cast(sum(rect.issues_due) as bigint)                                    as issues_due,
    cast(sum(rect.issues_rectified) as bigint)                              as issues_rectified,
    sum(rect.issues_rectified) / nullif(sum(rect.issues_due), 0)            as rectification_rate,
    cast(sum(rect.issues_on_time) as bigint)                                as issues_on_time,
    sum(rect.issues_on_time) / nullif(sum(rect.issues_due), 0)              as on_time_rate,
    cast(sum(rect.overdue_open) as bigint)                                  as overdue_open
from scopes
inner join {{ ref('kpi_rectification') }} as rect
    on scopes.is_root or rect.body_code = scopes.scope_code
group by scopes.scope_code, scopes.is_root, rect.body_group, rect.quarter
