{#- The files whose rows are in force: not replaced by a corrected file and not rejected.
    Every staging model filters its source with this, so nothing downstream can see a
    superseded ledger. -#}
{% macro current_file_ids() -%}
    select file_id
    from {{ source('raw', 'ingest_files') }}
    where superseded_by is null
      and outcome <> 'rejected'
{%- endmacro %}
