{#- One row per model run, prediction date, profiled feature (or the score) and reference bin:
    the share of that day's predictions in the bin next to the training share. Every bin of
    the profile appears, also when no prediction fell in it. -#}
with

binned as (

    select * from {{ ref('monitoring_binned_values') }}

),

reference as (

    select * from {{ ref('monitoring_reference_bins') }}

),

days as (

    -- Every prediction has exactly one score row: the day's volume per model run.
    select
        run_id,
        model_version,
        prediction_date,
        count(*) as predictions
    from binned
    where feature_kind = 'score'
    group by run_id, model_version, prediction_date

),

bin_counts as (

    select
        run_id,
        prediction_date,
        feature_name,
        bin_index,
        count(*) as bin_predictions
    from binned
    group by run_id, prediction_date, feature_name, bin_index

),

final as (

    select
        {{ loanops_surrogate_key(
            ['d.run_id', 'd.prediction_date', 'r.feature_name', 'r.bin_index']
        ) }} as bin_share_key,
        d.run_id,
        d.model_version,
        d.prediction_date,
        r.feature_name,
        r.feature_kind,
        r.bin_index,
        r.bin_label,
        d.predictions,
        coalesce(c.bin_predictions, 0) as bin_predictions,
        cast(coalesce(c.bin_predictions, 0) as {{ loanops_double() }})
        / nullif(cast(d.predictions as {{ loanops_double() }}), 0) as actual_share,
        r.training_share as expected_share
    from days as d
    inner join reference as r on d.run_id = r.run_id
    left join bin_counts as c
        on
            d.run_id = c.run_id
            and d.prediction_date = c.prediction_date
            and r.feature_name = c.feature_name
            and r.bin_index = c.bin_index

)

select * from final
