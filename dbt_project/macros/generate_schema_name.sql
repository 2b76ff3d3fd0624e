{#- The schema is exactly the custom one (staging, intermediate, marts, seeds), not
    <target_schema>_<custom>: analysts and dashboards query marts.kpi_cases, not main_marts. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
