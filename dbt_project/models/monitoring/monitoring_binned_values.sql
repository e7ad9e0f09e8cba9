{#- One row per prediction and profiled feature (plus the score): the bin of the reference
    profile of the model that made the prediction. The features are read from processed_data,
    the gold features the model saw, by key; JSON access is the one dialect difference. -#}
{%- if target.type == 'sqlserver' -%}
    {%- set feature_text = "json_value(p.processed_data, concat('$.', f.feature_name))" -%}
{%- elif target.type == 'postgres' -%}
    {%- set feature_text = "json_extract_path_text(cast(p.processed_data as json), f.feature_name)" -%}
{%- else -%}
    {%- set feature_text = "json_extract_string(p.processed_data, concat('$.', f.feature_name))" -%}
{%- endif -%}

with

predictions as (

    select * from {{ ref('monitoring_predictions') }}

),

reference as (

    select * from {{ ref('monitoring_reference_bins') }}

),

profiled_features as (

    select distinct
        run_id,
        feature_name,
        feature_kind
    from reference

),

feature_values as (

    select
        p.prediction_id,
        p.run_id,
        p.model_version,
        p.prediction_date,
        f.feature_name,
        f.feature_kind,
        case
            when f.feature_kind = 'score' then p.probability_of_default
            when f.feature_kind = 'numeric' then cast({{ feature_text }} as {{ loanops_double() }})
        end as numeric_value,
        case
            when f.feature_kind = 'category' then cast({{ feature_text }} as varchar(200))
        end as category_value
    from predictions as p
    inner join profiled_features as f on p.run_id = f.run_id

),

final as (

    select
        {{ loanops_surrogate_key(['v.prediction_id', 'v.feature_name']) }} as binned_value_key,
        v.prediction_id,
        v.run_id,
        v.model_version,
        v.prediction_date,
        v.feature_name,
        v.feature_kind,
        v.numeric_value,
        v.category_value,
        -- A category training never saw has no bin of its own: it counts as "unseen" (-1).
        coalesce(b.bin_index, -1) as bin_index
    from feature_values as v
    left join reference as b
        on
            v.run_id = b.run_id
            and v.feature_name = b.feature_name
            and (
                (b.is_missing_bin = 1 and v.numeric_value is null and v.category_value is null)
                or v.category_value = b.category_value
                or (
                    b.is_missing_bin = 0
                    and v.numeric_value is not null
                    and (b.lower_edge is null or v.numeric_value >= b.lower_edge)
                    and (b.upper_edge is null or v.numeric_value < b.upper_edge)
                )
            )

)

select * from final
