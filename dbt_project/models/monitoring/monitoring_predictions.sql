{#- One row per recorded prediction, typed. The log is the copy raw.predictions (embedded
    mode) or, when the var prediction_log_schema is set, the prediction store's own table in
    this database (shared-database mode), whose timestamps carry a time zone: they are turned
    into naive UTC here, as the copy stores them. Until the API has scored anything (or before
    the log has been copied) the table does not exist: the model is then empty, so a fresh
    `dbt build` succeeds. Offline compilation assumes the table exists. -#}
{%- set log_relation = source('raw', 'predictions') -%}
{%- set log_exists = var('offline_compile') or not execute
    or load_relation(log_relation) is not none -%}
{%- set from_store = var('prediction_log_schema', none) is not none -%}

{%- if from_store and target.type == 'postgres' -%}
    {%- set predicted_at = "(prediction_timestamp at time zone 'UTC')" -%}
{%- elif from_store and target.type == 'sqlserver' -%}
    {%- set predicted_at = "cast(switchoffset(prediction_timestamp, '+00:00') as datetime2)" -%}
{%- else -%}
    {%- set predicted_at = "prediction_timestamp" -%}
{%- endif -%}

{%- if log_exists -%}
    {%- set prediction_log_rows = log_relation -%}
{%- else -%}
    {{- log("monitoring_predictions: " ~ log_relation ~ " does not exist yet (no prediction "
        ~ "recorded or copied): the monitoring models are empty", info=true) -}}
    {%- set prediction_log_rows -%}
(
select
    cast(null as varchar(64)) as prediction_id,
    cast(null as varchar(64)) as run_id,
    cast(null as varchar(64)) as client_id,
    cast(null as varchar(4000)) as processed_data,
    cast(null as {{ loanops_double() }}) as prediction_probability,
    cast(null as integer) as predicted_class,
    cast(null as {{ loanops_double() }}) as threshold,
    cast(null as varchar(200)) as model_name,
    cast(null as varchar(64)) as model_version,
    cast(null as {{ loanops_double() }}) as latency_ms,
    cast(null as {{ dbt.type_timestamp() }}) as prediction_timestamp,
    cast(null as varchar(16)) as decision,
    cast(null as varchar(64)) as shadow_model_version,
    cast(null as {{ loanops_double() }}) as shadow_probability,
    cast(null as varchar(16)) as shadow_decision
where 1 = 0
)
    {%- endset -%}
{%- endif %}

with

prediction_log as (

    select landed.* from {{ prediction_log_rows }} as landed

),

final as (

    select
        cast(prediction_id as varchar(64)) as prediction_id,
        cast(run_id as varchar(64)) as run_id,
        cast(model_name as varchar(200)) as model_name,
        cast(model_version as varchar(64)) as model_version,
        {{ loanops_whole_number('client_id') }} as application_id,
        processed_data,
        cast(prediction_probability as {{ loanops_double() }}) as probability_of_default,
        cast(predicted_class as integer) as predicted_class,
        {#- rows recorded before decision policies were decided by the class alone #}
        cast(
            coalesce(decision, case when predicted_class = 1 then 'decline' else 'approve' end)
            as varchar(16)
        ) as decision,
        cast(threshold as {{ loanops_double() }}) as decision_threshold,
        cast(shadow_model_version as varchar(64)) as shadow_model_version,
        cast(shadow_probability as {{ loanops_double() }}) as shadow_probability,
        cast(shadow_decision as varchar(16)) as shadow_decision,
        cast(latency_ms as {{ loanops_double() }}) as latency_ms,
        {{ predicted_at }} as predicted_at,
        cast({{ predicted_at }} as date) as prediction_date
    from prediction_log

)

select * from final
