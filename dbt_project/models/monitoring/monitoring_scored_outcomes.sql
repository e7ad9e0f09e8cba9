{#- One row per model run and scored application whose outcome has landed: the run's latest
    prediction of the application, its realised default flag and its score band (the decile
    bin of the training scores in the model's reference profile). -#}
with

predictions as (

    select * from {{ ref('monitoring_predictions') }}

),

outcomes as (

    select * from {{ ref('silver_outcomes') }}

),

reference as (

    select * from {{ ref('monitoring_reference_bins') }}

),

ranked as (

    select
        run_id,
        model_version,
        application_id,
        probability_of_default,
        predicted_class,
        predicted_at,
        row_number() over (
            partition by run_id, application_id
            order by predicted_at desc, prediction_id desc
        ) as recency
    from predictions
    where application_id is not null

),

final as (

    select
        {{ loanops_surrogate_key(['r.run_id', 'r.application_id']) }} as scored_outcome_key,
        r.run_id,
        r.model_version,
        r.application_id,
        r.probability_of_default,
        r.predicted_class,
        r.predicted_at,
        o.is_default,
        b.bin_index as score_bin_index,
        b.bin_label as score_band
    from ranked as r
    inner join outcomes as o on r.application_id = o.application_id
    left join reference as b
        on
            r.run_id = b.run_id
            and b.feature_kind = 'score'
            and b.is_missing_bin = 0
            and (b.lower_edge is null or r.probability_of_default >= b.lower_edge)
            and (b.upper_edge is null or r.probability_of_default < b.upper_edge)
    where r.recency = 1

)

select * from final
