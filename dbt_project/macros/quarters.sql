{#- '2025Q3' → 8101 (year × 4 + quarter − 1): consecutive quarters differ by one, which makes
    "previous quarter" and "quarters up to Q" plain integer arithmetic. -#}
{% macro quarter_index(quarter_col) -%}
    (cast(left({{ quarter_col }}, 4) as integer) * 4 + cast(right({{ quarter_col }}, 1) as integer) - 1)
{%- endmacro %}

{#- The inverse: 8101 → '2025Q3'. -#}
{% macro quarter_label(index_col) -%}
    (cast(({{ index_col }}) // 4 as varchar) || 'Q' || cast(({{ index_col }}) % 4 + 1 as varchar))
{%- endmacro %}
