{#- The project's is_incremental(): dbt's own, except when compiling without a warehouse.
    dbt's is_incremental() looks the model's table up in the warehouse, which an offline
    compile (`--no-introspect --no-populate-cache --vars '{offline_compile: true}'`) cannot do.
    Offline it answers true, so the compiled SQL includes the incremental filter, the larger
    of the two shapes, and the T-SQL check covers it. A unit test has no `this` relation: there
    it answers false unless the test overrides is_incremental. -#}
{% macro is_incremental() -%}
    {%- if var('offline_compile', false) -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if this is none -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro %}
