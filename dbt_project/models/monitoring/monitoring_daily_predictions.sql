{#- One row per prediction date and model run: volume, the three decisions and scores. -#}
with

predictions as (

    select * from {{ ref('monitoring_predictions') }}

),

final as (

    select
        {{ loanops_surrogate_key(['run_id', 'prediction_date']) }} as daily_prediction_key,
        prediction_date,
        run_id,
        model_name,
        model_version,
        count(*) as predictions,
        sum(case when decision = 'approve' then 1 else 0 end) as approved,
        sum(case when decision = 'refer' then 1 else 0 end) as referred,
        sum(case when decision = 'decline' then 1 else 0 end) as declined,
        cast(sum(case when decision = 'approve' then 1 else 0 end) as {{ loanops_double() }})
        / nullif(cast(count(*) as {{ loanops_double() }}), 0) as approval_rate,
        cast(sum(case when decision = 'refer' then 1 else 0 end) as {{ loanops_double() }})
        / nullif(cast(count(*) as {{ loanops_double() }}), 0) as referral_rate,
        avg(probability_of_default) as mean_probability_of_default,
        min(probability_of_default) as min_probability_of_default,
        max(probability_of_default) as max_probability_of_default,
        avg(latency_ms) as mean_latency_ms,
        max(latency_ms) as max_latency_ms
    from predictions
    group by prediction_date, run_id, model_name, model_version

)

select * from final
