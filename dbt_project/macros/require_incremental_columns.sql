{#- An incremental model that reads columns back from its own table (the *_loads models re-rank
    earlier rows by rule_violation; gold reads its load ids) cannot run on a table built before
    those columns existed. Fail with the fix instead of a bare "column not found". One catalog
    query per model and build; skipped offline and in unit tests (is_incremental() is false). -#}
{% macro loanops_require_incremental_columns(columns) -%}
    {%- if execute and not var('offline_compile', false) and is_incremental() -%}
        {%- set present = adapter.get_columns_in_relation(this)
            | map(attribute='name') | map('lower') | list -%}
        {%- set missing = columns | reject('in', present) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' has no column ' ~ missing | join(', ') ~ ': it was built before the model'
                ~ ' became incremental. Rebuild it once: dbt build --full-refresh --select '
                ~ this.identifier ~ '+'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
