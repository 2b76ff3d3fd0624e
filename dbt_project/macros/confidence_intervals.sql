{#- 95% intervals shared by the satisfaction marts (DESIGN §4), rounded as published. -#}

{#- Wilson score interval of a proportion p over n: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n) -#}
{% macro wilson_bound(p, n, z, sign) -%}
    round(({{ p }} + {{ z }}^2 / (2 * {{ n }})
           {{ sign }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z }}^2 / (4 * {{ n }}^2)))
          / (1 + {{ z }}^2 / {{ n }}), 6)
{%- endmacro %}

{#- Sample standard deviation from additive sums: √((Σx² − (Σx)²/n) / (n − 1)); null below two values -#}
{% macro sd_from_sums(sum_x, sum_x2, n) -%}
    case when {{ n }} > 1
         then sqrt(greatest(({{ sum_x2 }} - {{ sum_x }} * {{ sum_x }} / {{ n }}) / ({{ n }} - 1), 0))
    end
{%- endmacro %}

{#- Normal-approximation interval of a 0–100 mean: mean ± z·sd/√n, clipped to [0, 100]; null without an sd
    (DuckDB's greatest/least skip nulls, so the clip alone would turn "unknown" into 0–100) -#}
{% macro mean_ci_low(mean, sd, n, z) -%}
    case when {{ sd }} is not null then round(greatest({{ mean }} - {{ z }} * {{ sd }} / sqrt({{ n }}), 0), 4) end
{%- endmacro %}

{% macro mean_ci_high(mean, sd, n, z) -%}
    case when {{ sd }} is not null then round(least({{ mean }} + {{ z }} * {{ sd }} / sqrt({{ n }}), 100), 4) end
{%- endmacro %}
