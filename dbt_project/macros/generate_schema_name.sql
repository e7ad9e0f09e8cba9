{#- Layers land in schemas named exactly raw, bronze, silver and gold (not <target>_<layer>),
    so every target (DuckDB, PostgreSQL, Azure SQL) has the same layout. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
