{#- Counts and amounts are never negative (a YTD decrease becomes NULL, never a negative increment). -#}
{% test not_negative(model, column_name) %}
select {{ column_name }} as negative_value
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
