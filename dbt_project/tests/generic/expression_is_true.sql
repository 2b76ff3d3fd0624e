{#- Every row satisfies a SQL boolean expression (rows where it is false fail; NULL passes). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
