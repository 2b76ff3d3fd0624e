{#- Numbers inside Chinese text the marts write (flag_note, warning reasons), formatted as the pages and
    exports format them (dashboards/exports.py): scores with 2 decimals, rates as percentages with
    1 decimal, both rounded half up on the decimal value (96.625 -> '96.63', 0.81125 -> '81.1%').
    printf('%.2f') rounds half to even on the binary value (0.125 -> '0.12') and printed a different
    number than the table beside it; a missing value is '—'. -#}
{% macro fixed_text(x, digits) -%}
    coalesce(cast(cast(round(cast({{ x }} as decimal(18, 8)), {{ digits }}) as decimal(18, {{ digits }})) as varchar), '—')
{%- endmacro %}

{% macro score_text(x) -%}
    {{ fixed_text(x, 2) }}
{%- endmacro %}
