{#- A view (no build cost) over gold_application_features without the label and the load
    bookkeeping; its contract is still enforced (column names and types). -#}
with application_features as (

    select * from {{ ref('gold_application_features') }}

),

final as (

    select
        application_id,
        {{ loanops_feature_names() | join(', ') }}
    from application_features

)

select * from final
