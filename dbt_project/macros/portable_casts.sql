{#- Adapter-dispatched casts used by the generated feature macros.
    They implement the number grammar of loanops/features/spec.py (NUMBER_PATTERN, ID_PATTERN)
    so that junk text becomes null instead of failing the model. -#}

{% macro loanops_double() -%}
    {{ return(adapter.dispatch('loanops_double', 'loanops')()) }}
{%- endmacro %}

{% macro default__loanops_double() -%}double precision{%- endmacro %}

{% macro duckdb__loanops_double() -%}double{%- endmacro %}

{% macro sqlserver__loanops_double() -%}float{%- endmacro %}


{% macro loanops_number(column) -%}
    {{ return(adapter.dispatch('loanops_number', 'loanops')(column)) }}
{%- endmacro %}

{% macro default__loanops_number(column) -%}
    case when trim({{ column }}) ~ '^[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]{1,15})$'
        then cast(trim({{ column }}) as double precision) end
{%- endmacro %}

{% macro duckdb__loanops_number(column) -%}
    case when regexp_full_match(trim({{ column }}), '[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]{1,15})')
        then cast(trim({{ column }}) as double) end
{%- endmacro %}

{#- T-SQL has no regular expressions: the character class and length rule out junk,
    try_cast rules out what is left (a lone sign or dot). -#}
{% macro sqlserver__loanops_number(column) -%}
    case when len(trim({{ column }})) between 1 and 32
        and trim({{ column }}) not like '%[^0-9.+-]%'
        then try_cast(trim({{ column }}) as float) end
{%- endmacro %}


{% macro loanops_whole_number(column) -%}
    {{ return(adapter.dispatch('loanops_whole_number', 'loanops')(column)) }}
{%- endmacro %}

{% macro default__loanops_whole_number(column) -%}
    case when trim({{ column }}) ~ '^[0-9]{1,18}$' then cast(trim({{ column }}) as bigint) end
{%- endmacro %}

{% macro duckdb__loanops_whole_number(column) -%}
    case when regexp_full_match(trim({{ column }}), '[0-9]{1,18}') then cast(trim({{ column }}) as bigint) end
{%- endmacro %}

{% macro sqlserver__loanops_whole_number(column) -%}
    case when len(trim({{ column }})) between 1 and 18
        and trim({{ column }}) not like '%[^0-9]%'
        then try_cast(trim({{ column }}) as bigint) end
{%- endmacro %}
