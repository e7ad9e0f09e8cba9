{#- Incremental like silver_application_loads: only the bronze rows of new loads are typed, and
    they are re-ranked with the earlier outcome rows of the application ids they touch
    (delete+insert on application_id). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='application_id',
        post_hook="{{ loanops_analyze() }}",
    )
}}
{{ loanops_require_incremental_columns(
    ['load_row_key', 'rule_violation', 'dbt_invocation_id']
) }}

{#- One list of the columns a row carries through the ranking, so the two sides of the
    union (new rows and earlier rows) and the final select cannot drift apart. -#}
{%- set landed_columns -%}
    application_id, is_default, landed_id, source_file, source_row, loaded_at, load_id
{%- endset -%}
{%- set carried_columns = landed_columns ~ ', rule_violation' -%}

with new_bronze as (

    select * from {{ ref('bronze_outcomes') }}
    {% if is_incremental() %}
        where load_id > (select coalesce(max(processed.load_id), 0) from {{ this }} as processed)
    {% endif %}

),

typed as {{ loanops_materialized() }} (

    select
        {{ loanops_clean_outcome_columns() }},
        id as landed_id,
        source_file,
        source_row,
        loaded_at,
        load_id
    from new_bronze

),

checked as (

    select
        *,
        {{ loanops_outcome_rejection_reason() }} as rule_violation
    from typed

),

candidates as (

    select
        {{ carried_columns }}
    from checked
    {% if is_incremental() %}
        union all
        select
            {{ carried_columns }}
        from {{ this }} as earlier
        where earlier.application_id in (select touched.application_id from checked as touched)
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by
                application_id,
                case when rule_violation is null then 1 else 0 end
            order by load_id desc, source_row desc
        ) as load_rank,
        cast(application_id as varchar(20)) as application_id_text
    from candidates

),

final as (

    select
        {# the key is computed here, not carried through the ranking sort: the same value as
            bronze's, from the same columns #}
        {{ loanops_load_row_key() }} as load_row_key,
        {{ landed_columns }},
        case
            when rule_violation is not null then rule_violation
            when load_rank > 1
                then concat('superseded by a later load of application ', application_id_text)
        end as rejection_reason,
        rule_violation,
        cast('{{ invocation_id }}' as varchar(64)) as dbt_invocation_id
    from ranked

)

select * from final
