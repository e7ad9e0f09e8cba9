{#- One row per prediction date, champion run and challenger version that shadowed it: how the
    two decided the same live applications (the challenger's answers are never returned). -#}
with

predictions as (

    select * from {{ ref('monitoring_predictions') }}

),

shadowed as (

    select
        prediction_date,
        run_id,
        model_version,
        shadow_model_version,
        probability_of_default,
        shadow_probability,
        case when decision = shadow_decision then 1 else 0 end as is_same_decision,
        case when decision = 'approve' then 1 else 0 end as is_champion_approval,
        case when shadow_decision = 'approve' then 1 else 0 end as is_shadow_approval
    from predictions
    where shadow_model_version is not null

),

final as (

    select
        {{ loanops_surrogate_key(['run_id', 'shadow_model_version', 'prediction_date']) }}
            as shadow_comparison_key,
        prediction_date,
        run_id,
        model_version,
        shadow_model_version,
        count(*) as shadowed,
        avg(cast(is_same_decision as {{ loanops_double() }})) as decision_agreement,
        avg(cast(is_champion_approval as {{ loanops_double() }})) as champion_approval_rate,
        avg(cast(is_shadow_approval as {{ loanops_double() }})) as shadow_approval_rate,
        avg(probability_of_default) as champion_mean_pd,
        avg(shadow_probability) as shadow_mean_pd,
        avg(abs(shadow_probability - probability_of_default)) as mean_absolute_pd_difference
    from shadowed
    group by prediction_date, run_id, model_version, shadow_model_version

)

select * from final
