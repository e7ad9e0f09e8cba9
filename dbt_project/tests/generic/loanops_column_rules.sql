{#- Every per-column rule of one model in one test: one dbt node and one query, so a build pays
    dbt's per-test overhead (about 40 ms) once per model instead of once per column and rule.

    Arguments (each optional, at least one):
      not_null:        [column, ...]
      accepted_values: {column: [value, ...], ...}   strings are quoted, numbers are not
      value_between:   {column: [min_value, max_value], ...}   inclusive bounds

    One row per violation: the column, the rule it breaks and the offending value as text
    (`dbt test --select <test> --store-failures` keeps them in dbt_test__audit). Nulls pass
    accepted_values and value_between, as in dbt's accepted_values; list the column under
    not_null to forbid them. A union of flat selects, no CTE: it runs on every adapter. -#}
{% test loanops_column_rules(model, not_null=[], accepted_values={}, value_between={}) %}
    {%- set checks = loanops_column_rule_checks(
        model, not_null, accepted_values, value_between
    ) %}

    select
        column_name,
        rule,
        failing_value
    from (
        {% for column, rule, condition in checks %}
            select
                '{{ column }}' as column_name,
                '{{ rule }}' as rule,
                cast({{ column }} as varchar(256)) as failing_value
            from {{ model }}
            where {{ condition }}
            {% if not loop.last %}
                union all
            {% endif %}
        {% endfor %}
    ) as violations
{% endtest %}
