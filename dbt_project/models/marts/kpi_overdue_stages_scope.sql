-- Overdue open issues per scope, quarter and escalation stage (督办 page cards): the root scope counts
-- every body's issues, a county scope its own. Every stage in force has a row (0 when none).
with scopes as (
    select * from {{ ref('int_regions__scopes') }}
)

select
    scopes.scope_code,
    scopes.is_root,
    stages.quarter,
    stages.escalation_stage,
    stages.stage_order,
    cast(sum(stages.issues) as bigint)                              as issues
from scopes
inner join {{ ref('kpi_overdue_stages') }} as stages
    on scopes.is_root or stages.body_code = scopes.scope_code
group by scopes.scope_code, scopes.is_root, stages.quarter, stages.escalation_stage, stages.stage_order
