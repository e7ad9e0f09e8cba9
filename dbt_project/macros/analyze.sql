{#- Fresh statistics after a build: a freshly created or rewritten table has none until
    autovacuum gets to it, and the checks that read it next are planned on guesses. -#}
{% macro loanops_analyze() -%}
    {{ return(adapter.dispatch('loanops_analyze', 'loanops')()) }}
{%- endmacro %}

{% macro default__loanops_analyze() -%}{%- endmacro %}

{% macro postgres__loanops_analyze() -%}analyze {{ this }}{%- endmacro %}
