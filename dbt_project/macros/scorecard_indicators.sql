{#- The indicators a scoring rules row may weight: (indicator key in scoring_rules.csv,
    column prefix in the scorecard, expression giving its 0-100 score from
    int_scorecard__indicator_values). Adding an indicator = one entry here + its value column. -#}
{% macro scorecard_indicators() -%}
    {{ return([
        ('task_on_schedule', 'task', 'task_rate * 100'),
        ('unit_coverage', 'coverage', 'coverage_rate * 100'),
        ('rectification', 'rectification', 'rectification_rate * 100'),
        ('timeliness', 'timeliness', 'timeliness_rate * 100'),
        ('satisfaction', 'satisfaction', 'satisfaction_index'),
    ]) }}
{%- endmacro %}
