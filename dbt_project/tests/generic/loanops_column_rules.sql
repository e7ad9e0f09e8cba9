{#- Every per-column rule of one model in one test: one dbt node and one query, so a build pays
    dbt's per-test overhead (about 40 ms) once per model instead of once per column and rule.

    Arguments (each optional, at least one):
      not_null:        [column, ...]
      accepted_values: {column: [value, ...], ...}   strings are quoted, numbers are not
      value_between:   {column: [min_value, max_value], ...}   inclusive bounds

    One row per violation: the column, the rule it breaks and the offending value as text
    (`dbt test --select <test> --store-failures` keeps them in dbt_test__audit). Nulls pass
    accepted_values and value_between, as in dbt's accepted_values; list the column under
    not_null to forbid them.

    The model is read once: the rows that break any rule (none, when the model is sound) are
    joined to the list of checks and each keeps the checks it breaks. Nested selects, no CTE:
    it runs on every adapter. -#}
{% test loanops_column_rules(model, not_null=[], accepted_values={}, value_between={}) %}
    {%- set checks = loanops_column_rule_checks(
        model, not_null, accepted_values, value_between
    ) %}

    select
        checks.loanops_column_name as column_name,
        checks.loanops_rule as rule,
        case checks.loanops_check
            {% for column, rule, condition in checks %}
                when {{ loop.index }} then cast(offending.{{ column }} as varchar(256))
            {% endfor %}
        end as failing_value
    from (
        select *
        from {{ model }}
        where
            {% for column, rule, condition in checks %}
                ({{ condition }}){% if not loop.last %} or{% endif %}
            {% endfor %}
    ) as offending
    cross join (
        {% for column, rule, condition in checks %}
            select
                {{ loop.index }} as loanops_check,
                '{{ column }}' as loanops_column_name,
                '{{ rule }}' as loanops_rule
            {% if not loop.last %}
                union all
            {% endif %}
        {% endfor %}
    ) as checks
    where
        {% for column, rule, condition in checks %}
            (checks.loanops_check = {{ loop.index }} and ({{ condition }})){% if not loop.last %} or{% endif %}
        {% endfor %}
{% endtest %}
