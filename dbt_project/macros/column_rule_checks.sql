{#- The checks of loanops_column_rules (tests/generic/loanops_column_rules.sql): a list of
    (column, rule, condition) where `condition` is true on a row that breaks `rule`. Nulls
    break only not_null: `x not in (...)` and `x < a or x > b` are null, not true, on a null. -#}
{% macro loanops_column_rule_checks(model, not_null, accepted_values, value_between) -%}
    {%- if not (not_null or accepted_values or value_between) -%}
        {{ exceptions.raise_compiler_error('loanops_column_rules on ' ~ model ~ ': no rules') }}
    {%- endif -%}
    {%- set checks = [] -%}
    {%- for column in not_null -%}
        {%- do checks.append((column, 'not null', column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set literals = [] -%}
        {%- for value in values -%}
            {%- if value is string -%}
                {%- do literals.append("'" ~ value | replace("'", "''") ~ "'") -%}
            {%- else -%}
                {%- do literals.append(value | string) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set condition = column ~ ' not in (' ~ literals | join(', ') ~ ')' -%}
        {%- do checks.append((column, 'accepted values', condition)) -%}
    {%- endfor -%}
    {%- for column, bounds in value_between.items() -%}
        {%- set rule = 'between ' ~ bounds[0] ~ ' and ' ~ bounds[1] -%}
        {%- set condition = column ~ ' < ' ~ bounds[0] ~ ' or ' ~ column ~ ' > ' ~ bounds[1] -%}
        {%- do checks.append((column, rule, condition)) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}
