{#- One row per model run and score band (decile bins of the training scores): realised default
    rate against the mean predicted PD, i.e. default rate by band and calibration by band. -#}
with

scored as (

    select * from {{ ref('monitoring_scored_outcomes') }}

),

final as (

    select
        {{ loanops_surrogate_key(['run_id', 'score_bin_index']) }} as performance_band_key,
        run_id,
        model_version,
        score_bin_index,
        score_band,
        count(*) as scored_rows,
        sum(is_default) as defaulted,
        cast(sum(is_default) as {{ loanops_double() }})
        / nullif(cast(count(*) as {{ loanops_double() }}), 0) as default_rate,
        avg(probability_of_default) as mean_probability_of_default,
        avg(probability_of_default)
        - cast(sum(is_default) as {{ loanops_double() }})
        / nullif(cast(count(*) as {{ loanops_double() }}), 0) as calibration_gap
    from scored
    group by run_id, model_version, score_bin_index, score_band

)

select * from final
