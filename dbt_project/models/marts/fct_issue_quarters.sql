-- Inspection issues as they stood at each quarter end, attributed to the body that must
-- rectify them, with the due / rectified / on-time / overdue flags at D.
select * from {{ ref('int_inspections__quarter_end') }}
