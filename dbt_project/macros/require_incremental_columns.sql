{#- An incremental model whose table was built before some of its columns existed (the *_loads
    models re-rank earlier rows by rule_violation; gold reads its load ids; bronze and the
    *_loads models carry load_row_key, their tested key) would append rows without them or stop
    on a bare "column not found". Fail with the fix instead. One catalog query per model and
    build; skipped offline and in unit tests (there is_incremental() is false, or `this` is
    the unit test's SQL rows rather than a table). -#}
{% macro loanops_require_incremental_columns(columns) -%}
    {%- if execute and not var('offline_compile', false) and is_incremental()
        and this is not string -%}
        {%- set present = adapter.get_columns_in_relation(this)
            | map(attribute='name') | map('lower') | list -%}
        {%- set missing = columns | reject('in', present) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' has no column ' ~ missing | join(', ') ~ ': it was built by an earlier'
                ~ ' version of the model. Rebuild it once: dbt build --full-refresh --select '
                ~ this.identifier ~ '+'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
