{#- `name as {{ loanops_materialized() }} (...)`: PostgreSQL inlines a CTE that is read once,
    repeating its expressions wherever later CTEs use its columns (a row's cleaned numbers would
    be parsed again in its rejection reason and again in its ranking key); `materialized` makes
    it compute them once. DuckDB shares common subexpressions itself; elsewhere it is empty. -#}
{% macro loanops_materialized() -%}
    {{ return(adapter.dispatch('loanops_materialized', 'loanops')()) }}
{%- endmacro %}

{% macro default__loanops_materialized() -%}{%- endmacro %}

{% macro postgres__loanops_materialized() -%}materialized{%- endmacro %}
