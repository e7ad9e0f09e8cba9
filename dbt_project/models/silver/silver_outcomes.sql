{#- A view over silver_outcome_loads (no build cost): the rows with no rejection reason, i.e.
    the latest valid load of each application id. The loads model is incremental. -#}
with outcome_loads as (

    select * from {{ ref('silver_outcome_loads') }}

),

final as (

    select
        application_id,
        is_default,
        source_file,
        source_row,
        loaded_at,
        load_id
    from outcome_loads
    where rejection_reason is null

)

select * from final
