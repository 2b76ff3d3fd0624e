-- The rules in force for every year with data, per group (the version starting on or before the
-- year, else the default rules), with every rule value and the version's note.
select
    in_force.*,
    dim.note
from {{ ref('int_rules__ranking_in_force') }} as in_force
inner join {{ ref('dim_rules') }} as dim
    on dim.rules_version = in_force.rules_version
   and dim.body_group = in_force.body_group
