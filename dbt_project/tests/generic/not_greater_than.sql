{#- A numerator never exceeds its denominator (e.g. tasks_on_schedule <= tasks_active). -#}
{% test not_greater_than(model, column_name, other_column) %}
select {{ column_name }} as numerator, {{ other_column }} as denominator
from {{ model }}
where {{ column_name }} > {{ other_column }}
{% endtest %}
