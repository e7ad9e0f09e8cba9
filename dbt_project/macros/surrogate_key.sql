{#- A single-column key for a grain of several columns, so that dbt's `unique` and `not_null`
    tests (which dbt's tooling reads as the primary key) test one real column. The parts are
    cast to text and joined with '|'; a null part becomes the text 'null' (concat alone would
    drop it, making (1, null) and (1, '') the same key). concat, coalesce and varchar casts
    are spelled the same on DuckDB, PostgreSQL and T-SQL, with no package to install. -#}
{% macro loanops_surrogate_key(parts) -%}
    {%- set texts = [] -%}
    {%- for part in parts -%}
        {%- do texts.append("coalesce(cast(" ~ part ~ " as varchar(256)), 'null')") -%}
    {%- endfor -%}
    concat({{ texts | join(", '|', ") }})
{%- endmacro %}

{#- The key of a landed row: its load and its row number in that load's file
    ('<load_id>|<source_row>'). A load is one file of one raw table, so the key is unique across
    the applications and the outcomes too. -#}
{% macro loanops_load_row_key(load_id='load_id', source_row='source_row') -%}
    {{ loanops_surrogate_key([load_id, source_row]) }}
{%- endmacro %}
