{#- One row per bin of the reference profile of each trained model (ml/reference.py), as the
    Dagster asset raw/reference_bins copies it from MLflow. Empty until a champion exists. -#}
{%- set reference_relation = source('raw', 'reference_bins') -%}
{%- set reference_exists = var('offline_compile') or not execute
    or load_relation(reference_relation) is not none -%}

{%- if reference_exists -%}
    {%- set reference_rows = reference_relation -%}
{%- else -%}
    {%- set reference_rows -%}
(
select
    cast(null as varchar(64)) as run_id,
    cast(null as varchar(64)) as model_version,
    cast(null as varchar(200)) as feature_name,
    cast(null as varchar(64)) as feature_kind,
    cast(null as integer) as bin_index,
    cast(null as varchar(200)) as bin_label,
    cast(null as {{ loanops_double() }}) as lower_edge,
    cast(null as {{ loanops_double() }}) as upper_edge,
    cast(null as varchar(200)) as category_value,
    cast(null as integer) as is_missing_bin,
    cast(null as bigint) as training_rows,
    cast(null as {{ loanops_double() }}) as training_share
where 1 = 0
)
    {%- endset -%}
{%- endif %}

with

reference as (

    select landed.* from {{ reference_rows }} as landed

),

final as (

    select
        {{ loanops_surrogate_key(['run_id', 'feature_name', 'bin_index']) }} as reference_bin_key,
        cast(run_id as varchar(64)) as run_id,
        cast(model_version as varchar(64)) as model_version,
        cast(feature_name as varchar(200)) as feature_name,
        cast(feature_kind as varchar(64)) as feature_kind,
        cast(bin_index as integer) as bin_index,
        cast(bin_label as varchar(200)) as bin_label,
        cast(lower_edge as {{ loanops_double() }}) as lower_edge,
        cast(upper_edge as {{ loanops_double() }}) as upper_edge,
        cast(category_value as varchar(200)) as category_value,
        cast(is_missing_bin as integer) as is_missing_bin,
        cast(training_rows as bigint) as training_rows,
        cast(training_share as {{ loanops_double() }}) as training_share
    from reference

)

select * from final
