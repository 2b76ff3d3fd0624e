{#- The figures of a 监督执纪统计 row: column, Chinese name, whether it is a count. -#}
{% macro case_metrics() -%}
    {{ return([
        ('petitions', '信访举报', true),
        ('clues', '处置问题线索', true),
        ('talks', '谈话函询', true),
        ('cases_filed', '立案', true),
        ('punished', '处分', true),
        ('form1', '第一种形态', true),
        ('form2', '第二种形态', true),
        ('form3', '第三种形态', true),
        ('form4', '第四种形态', true),
        ('detained', '留置', true),
        ('transferred', '移送检察机关', true),
        ('recovered_10k_yuan', '挽回经济损失(万元)', false),
    ]) }}
{%- endmacro %}
