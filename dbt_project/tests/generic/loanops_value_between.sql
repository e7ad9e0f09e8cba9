{#- Fails on rows whose value lies outside [min_value, max_value]; nulls pass
    (not_null tests missing values). One query, no CTE: it runs on every adapter. -#}
{% test loanops_value_between(model, column_name, min_value, max_value) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}

{% endtest %}
