{#- Every per-column rule of one model in one test: one dbt node and one query, so a build pays
    dbt's per-test overhead (about 40 ms) once per model instead of once per column and rule.

    Arguments (each optional, at least one rule in all):
      spec_rules:      one rule set, or a list of them, generated from loanops/features/spec.py
                       by `loanops features render` (loanops_spec_column_rules): the categories'
                       canonical values, the 0/1 flags, the ranges and the label, never typed
                       in YAML
      not_null:        [column, ...]
      accepted_values: {column: [value, ...], ...}   strings are quoted, numbers are not
      value_between:   {column: [min_value, max_value], ...}   inclusive bounds

    One row per broken rule: the column, the rule, failing_rows (how many rows break it) and
    failing_value (the smallest offending value as text; null for not null). dbt's failure
    count is the number of (row, rule) violations, the sum of failing_rows
    (`dbt test --select <test> --store-failures` keeps the rows in dbt_test__audit). Nulls
    pass accepted_values and value_between, as in dbt's accepted_values; list the column under
    not_null to forbid them.

    The model is read once, whatever the planner guesses: the rows that break any rule (none,
    when the model is sound) are counted per rule in one aggregate row, which is then turned
    into one row per broken rule. A join of the offending rows to the list of rules instead
    lets PostgreSQL, which cannot estimate `not in` lists well, scan the model once per rule.
    Nested selects, no CTE: it runs on every adapter. -#}
{% test loanops_column_rules(
    model, spec_rules=none, not_null=[], accepted_values={}, value_between={}
) %}
    {{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
    {%- set checks = loanops_column_rule_checks(
        model, spec_rules, not_null, accepted_values, value_between
    ) %}

    select
        checks.loanops_column_name as column_name,
        checks.loanops_rule as rule,
        case checks.loanops_check
            {% for column, rule, condition in checks %}
                when {{ loop.index }} then counted.failing_rows_{{ loop.index }}
            {% endfor %}
        end as failing_rows,
        case checks.loanops_check
            {% for column, rule, condition in checks %}
                when {{ loop.index }} then counted.failing_value_{{ loop.index }}
            {% endfor %}
        end as failing_value
    from (
        select
            {% for column, rule, condition in checks %}
                sum(case when {{ condition }} then 1 else 0 end) as failing_rows_{{ loop.index }},
                min(
                    case when {{ condition }} then cast({{ column }} as varchar(256)) end
                ) as failing_value_{{ loop.index }}{% if not loop.last %},{% endif %}
            {% endfor %}
        from {{ model }}
        where
            {% for column, rule, condition in checks %}
                ({{ condition }}){% if not loop.last %} or{% endif %}
            {% endfor %}
    ) as counted
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
        case checks.loanops_check
            {% for column, rule, condition in checks %}
                when {{ loop.index }} then counted.failing_rows_{{ loop.index }}
            {% endfor %}
        end > 0
{% endtest %}
