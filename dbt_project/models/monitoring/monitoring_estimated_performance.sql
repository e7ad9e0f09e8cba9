{#- One row per prediction date and model run: the performance the calibrated PDs promise
    before any outcome lands. A calibrated PD is the probability the application defaults, so
    the expected default rate is the mean PD, and the expected ROC-AUC is the area under the
    expected ROC curve: each application counts as PD of a default and 1 - PD of a repaid loan
    (the confidence-based estimate), i.e. the PD-weighted share of (default, repaid) pairs the
    model orders correctly, ties counting half. It holds while the model stays calibrated;
    monitoring_realised_performance sets it beside the realised ROC-AUC once outcomes land. -#}
with

predictions as (

    select * from {{ ref('monitoring_predictions') }}

),

weighted as (

    select
        prediction_date,
        run_id,
        model_version,
        probability_of_default,
        sum(1 - probability_of_default) over (
            partition by prediction_date, run_id
            order by probability_of_default
            range between unbounded preceding and current row
        ) as repaid_at_or_below,
        sum(1 - probability_of_default) over (
            partition by prediction_date, run_id, probability_of_default
        ) as repaid_tied
    from predictions

),

by_day as (

    select
        prediction_date,
        run_id,
        model_version,
        count(*) as predictions,
        sum(probability_of_default) as expected_defaults,
        sum(1 - probability_of_default) as expected_repaid,
        sum(
            probability_of_default * (repaid_at_or_below - repaid_tied / 2)
        ) as expected_ordered_pairs
    from weighted
    group by prediction_date, run_id, model_version

),

final as (

    select
        {{ loanops_surrogate_key(['run_id', 'prediction_date']) }}
            as estimated_performance_key,
        prediction_date,
        run_id,
        model_version,
        predictions,
        expected_defaults,
        expected_defaults
        / nullif(cast(predictions as {{ loanops_double() }}), 0) as expected_default_rate,
        expected_ordered_pairs
        / nullif(expected_defaults * expected_repaid, 0) as expected_roc_auc
    from by_day

)

select * from final
