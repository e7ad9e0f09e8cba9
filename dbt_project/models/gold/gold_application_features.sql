{#- Incremental (delete+insert on application_id): a run recomputes only the applications whose
    silver application row or silver outcome row came from a load newer than any already in
    gold (application_load_id, outcome_load_id), so a resend, a new application and a late
    outcome each reach gold on the build after they land. An orphan outcome (its application
    not landed yet) is looked at again on every build until its application arrives. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='application_id',
        post_hook="{{ loanops_analyze() }}",
        on_schema_change='fail',
    )
}}
{{ loanops_require_incremental_columns(
    ['application_load_id', 'outcome_load_id', 'dbt_invocation_id']
) }}

with
{% if is_incremental() %}
    built as (

        select
            coalesce(max(application_load_id), 0) as last_application_load_id,
            coalesce(max(outcome_load_id), 0) as last_outcome_load_id
        from {{ this }}

    ),

    changed as (

        select changed_applications.application_id
        from {{ ref('silver_applications') }} as changed_applications
        inner join built
            on changed_applications.load_id > built.last_application_load_id
        union all
        select changed_outcomes.application_id
        from {{ ref('silver_outcomes') }} as changed_outcomes
        inner join built
            on changed_outcomes.load_id > built.last_outcome_load_id

    ),
{% endif %}

applications as (

    select * from {{ ref('silver_applications') }}
    {% if is_incremental() %}
        where application_id in (select changed.application_id from changed)
    {% endif %}

),

outcomes as (

    select
        application_id,
        is_default,
        load_id
    from {{ ref('silver_outcomes') }}
    {% if is_incremental() %}
        where application_id in (select changed.application_id from changed)
    {% endif %}

),

features as (

    select
        application_id,
        {{ loanops_feature_columns() }},
        load_id as application_load_id
    from applications

),

final as (

    select
        features.application_id,
        {{ loanops_feature_names() | join(', ') }},
        outcomes.is_default,
        case when outcomes.application_id is null then 0 else 1 end as has_outcome,
        cast(features.application_load_id as bigint) as application_load_id,
        cast(outcomes.load_id as bigint) as outcome_load_id,
        cast('{{ invocation_id }}' as varchar(64)) as dbt_invocation_id
    from features
    left join outcomes
        on features.application_id = outcomes.application_id

)

select * from final
