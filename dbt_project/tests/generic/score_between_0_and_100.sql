{#- A score (composite, indicator score, index) must lie in [0, 100]; NULL is allowed. -#}
{% test score_between_0_and_100(model, column_name) %}
select {{ column_name }} as bad_score
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 100
{% endtest %}
