{#- One row per model run, prediction date and profiled feature (or the score): the population
    stability index of that day's predictions against the model's training split,
    sum((actual - expected) * ln(actual / expected)) over the bins, shares floored at 0.0001.
    Status: ok below 0.10, warn from 0.10, alert from 0.25 (vars psi_warn / psi_alert). -#}
{%- set share_floor = 0.0001 -%}

with

bin_shares as (

    select * from {{ ref('monitoring_bin_shares') }}

),

floored as (

    select
        run_id,
        model_version,
        prediction_date,
        feature_name,
        feature_kind,
        predictions,
        case
            when actual_share < {{ share_floor }} then {{ share_floor }} else actual_share
        end as actual_share,
        case
            when expected_share < {{ share_floor }} then {{ share_floor }} else expected_share
        end as expected_share
    from bin_shares

),

contributions as (

    -- ln(x) = log10(x) * ln(10): log10 is spelled the same on DuckDB, PostgreSQL and T-SQL.
    select
        run_id,
        model_version,
        prediction_date,
        feature_name,
        feature_kind,
        predictions,
        (actual_share - expected_share)
        * log10(actual_share / expected_share) * 2.302585092994046 as psi_term
    from floored

),

by_feature as (

    select
        run_id,
        model_version,
        prediction_date,
        feature_name,
        feature_kind,
        max(predictions) as predictions,
        count(*) as bins,
        sum(psi_term) as psi
    from contributions
    group by run_id, model_version, prediction_date, feature_name, feature_kind

),

final as (

    select
        {{ loanops_surrogate_key(['run_id', 'prediction_date', 'feature_name']) }} as psi_key,
        run_id,
        model_version,
        prediction_date,
        feature_name,
        feature_kind,
        predictions,
        bins,
        psi,
        case
            when psi >= {{ var('psi_alert', 0.25) }} then 'alert'
            when psi >= {{ var('psi_warn', 0.10) }} then 'warn'
            else 'ok'
        end as psi_status
    from by_feature

)

select * from final
