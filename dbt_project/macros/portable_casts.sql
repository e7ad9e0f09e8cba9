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

{#- PostgreSQL's regular expressions cost more with bounded repeats ({1,15}) and per extra
    function call. Text of at most 15 bytes cannot hold more than 15 digits, so it only needs the
    unbounded shape; longer text takes the whole pattern. Either way the accepted text is
    exactly NUMBER_PATTERN between spaces, which the cast skips as trim() would. -#}
{% macro default__loanops_number(column) -%}
    case
        when
            case
                when octet_length({{ column }}) <= 15
                    then {{ column }} ~ '^ *[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+) *$'
                else {{ column }} ~ '^ *[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]{1,15}) *$'
            end
            then cast({{ column }} as double precision)
    end
{%- endmacro %}

{% macro duckdb__loanops_number(column) -%}
    case when regexp_full_match(trim({{ column }}), '[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]{1,15})')
        then cast(trim({{ column }}) as double) end
{%- endmacro %}

{#- T-SQL has no regular expressions, so NUMBER_PATTERN is taken apart: after an optional
    sign, only digits and at most one dot; then 1 to 15 digits before the dot, or none before it
    and 1 to 15 after it. The character test compares code points (a binary collation): under
    the usual case- and width-insensitive collations [0-9] also matches digits such as '²' and
    full-width '１', which the spec rejects. -#}
{% macro sqlserver__loanops_number(column) -%}
    {%- set text = 'trim(' ~ column ~ ')' -%}
    {%- set unsigned -%}
        substring({{ text }}, case when left({{ text }}, 1) in ('+', '-') then 2 else 1 end, len({{ text }}))
    {%- endset -%}
    case
        when
            {{ unsigned }} collate Latin1_General_100_BIN2 not like '%[^0123456789.]%'
            and {{ unsigned }} not like '%.%.%'
            and (
                charindex('.', concat({{ unsigned }}, '.')) - 1 between 1 and 15
                or ({{ unsigned }} like '.%' and len({{ unsigned }}) - 1 between 1 and 15)
            )
            then try_cast({{ text }} as float)
    end
{%- endmacro %}


{% macro loanops_whole_number(column) -%}
    {{ return(adapter.dispatch('loanops_whole_number', 'loanops')(column)) }}
{%- endmacro %}

{% macro default__loanops_whole_number(column) -%}
    case
        when
            case
                when octet_length({{ column }}) <= 18 then {{ column }} ~ '^ *[0-9]+ *$'
                else {{ column }} ~ '^ *[0-9]{1,18} *$'
            end
            then cast({{ column }} as bigint)
    end
{%- endmacro %}

{% macro duckdb__loanops_whole_number(column) -%}
    case when regexp_full_match(trim({{ column }}), '[0-9]{1,18}') then cast(trim({{ column }}) as bigint) end
{%- endmacro %}

{% macro sqlserver__loanops_whole_number(column) -%}
    case when len(trim({{ column }})) between 1 and 18
        and trim({{ column }}) collate Latin1_General_100_BIN2 not like '%[^0123456789]%'
        then try_cast(trim({{ column }}) as bigint) end
{%- endmacro %}
