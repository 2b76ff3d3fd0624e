{#- A rate (share) must lie in [0, 1]; NULL means "no denominator" and is allowed. -#}
{% test rate_between_0_and_1(model, column_name) %}
select {{ column_name }} as bad_rate
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
