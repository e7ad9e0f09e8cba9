with application_features as (

    select * from {{ ref('gold_application_features') }}

),

final as (

    select
        application_id,
        {%- for column in loanops_feature_names() %}
        {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from application_features

)

select * from final
