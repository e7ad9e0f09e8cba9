{#- The checks of loanops_column_rules (tests/generic/loanops_column_rules.sql): a list of
    (column, rule, condition) where `condition` is true on a row that breaks `rule`. Nulls
    break only not_null: `x not in (...)` and `x < a or x > b` are null, not true, on a null.
    `spec_rules` names one or more rule sets generated from loanops/features/spec.py
    (loanops_spec_column_rules); the other arguments add the model's own rules to them. -#}
{% macro loanops_column_rule_checks(model, spec_rules, not_null, accepted_values, value_between) -%}
    {%- set all_not_null = [] -%}
    {%- set all_accepted = {} -%}
    {%- set all_between = {} -%}
    {%- set rule_sets = [] if spec_rules is none
        else ([spec_rules] if spec_rules is string else spec_rules) -%}
    {%- for rule_set in rule_sets -%}
        {%- set generated = loanops_spec_column_rules(rule_set) -%}
        {%- do all_not_null.extend(generated.get('not_null', [])) -%}
        {%- do all_accepted.update(generated.get('accepted_values', {})) -%}
        {%- do all_between.update(generated.get('value_between', {})) -%}
    {%- endfor -%}
    {%- do all_not_null.extend(not_null) -%}
    {%- do all_accepted.update(accepted_values) -%}
    {%- do all_between.update(value_between) -%}
    {%- if not (all_not_null or all_accepted or all_between) -%}
        {{ exceptions.raise_compiler_error('loanops_column_rules on ' ~ model ~ ': no rules') }}
    {%- endif -%}
    {%- set checks = [] -%}
    {%- for column in all_not_null -%}
        {%- do checks.append((column, 'not null', column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, values in all_accepted.items() -%}
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
    {%- for column, bounds in all_between.items() -%}
        {%- set rule = 'between ' ~ bounds[0] ~ ' and ' ~ bounds[1] -%}
        {%- set condition = column ~ ' < ' ~ bounds[0] ~ ' or ' ~ column ~ ' > ' ~ bounds[1] -%}
        {%- do checks.append((column, rule, condition)) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}
