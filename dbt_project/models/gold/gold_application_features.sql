with applications as (

    select * from {{ ref('silver_applications') }}

),

outcomes as (

    select * from {{ ref('silver_outcomes') }}

),

features as (

    select
        application_id,
        {{ loanops_feature_columns() }}
    from applications

),

final as (

    select
        features.*,
        outcomes.is_default,
        case when outcomes.application_id is null then 0 else 1 end as has_outcome
    from features
    left join outcomes
        on features.application_id = outcomes.application_id

)

select * from final
