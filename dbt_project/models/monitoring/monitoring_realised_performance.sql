{#- One row per model run with landed outcomes: realised ROC-AUC, default rate and mean PD, and
    beside them the ROC-AUC the PDs promised on the same applications. AUC is the Mann-Whitney
    statistic, (sum of the defaulted' ranks - n1 (n1 + 1) / 2) / (n1 n0), with tied scores
    given their average rank, so it equals scikit-learn's roc_auc_score; the estimate is the
    area under the expected ROC curve (see monitoring_estimated_performance). -#}
with

scored as (

    select * from {{ ref('monitoring_scored_outcomes') }}

),

ranked as (

    select
        run_id,
        model_version,
        probability_of_default,
        is_default,
        rank() over (
            partition by run_id order by probability_of_default
        ) as lowest_rank,
        count(*) over (
            partition by run_id, probability_of_default
        ) as tied_rows,
        sum(1 - probability_of_default) over (
            partition by run_id
            order by probability_of_default
            range between unbounded preceding and current row
        ) as repaid_at_or_below,
        sum(1 - probability_of_default) over (
            partition by run_id, probability_of_default
        ) as repaid_tied
    from scored

),

by_run as (

    select
        run_id,
        model_version,
        count(*) as scored_rows,
        sum(is_default) as defaulted,
        sum(
            case
                when is_default = 1
                    then
                        cast(lowest_rank as {{ loanops_double() }})
                        + cast(tied_rows - 1 as {{ loanops_double() }}) / 2
                else 0
            end
        ) as default_rank_sum,
        avg(probability_of_default) as mean_probability_of_default,
        sum(probability_of_default) as expected_defaults,
        sum(1 - probability_of_default) as expected_repaid,
        sum(
            probability_of_default * (repaid_at_or_below - repaid_tied / 2)
        ) as expected_ordered_pairs
    from ranked
    group by run_id, model_version

),

counted as (

    select
        run_id,
        model_version,
        scored_rows,
        defaulted,
        default_rank_sum,
        mean_probability_of_default,
        expected_ordered_pairs
        / nullif(expected_defaults * expected_repaid, 0) as estimated_roc_auc,
        cast(defaulted as {{ loanops_double() }}) as positives,
        cast(scored_rows - defaulted as {{ loanops_double() }}) as negatives
    from by_run

),

final as (

    select
        run_id,
        model_version,
        scored_rows,
        defaulted,
        positives / nullif(positives + negatives, 0) as default_rate,
        mean_probability_of_default,
        mean_probability_of_default
        - positives / nullif(positives + negatives, 0) as calibration_gap,
        (default_rank_sum - positives * (positives + 1) / 2)
        / nullif(positives * negatives, 0) as roc_auc,
        estimated_roc_auc
    from counted

)

select * from final
