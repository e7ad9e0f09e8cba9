{#- A view (no build cost): every load row silver does not use, with its reason. By
    construction bronze rows = silver rows + rejected rows (tests/reconcile_*.sql). -#}
with application_loads as (

    select * from {{ ref('silver_application_loads') }}

),

outcome_loads as (

    select * from {{ ref('silver_outcome_loads') }}

),

rejected_applications as (

    select
        load_row_key,
        cast('applications' as varchar(16)) as source_table,
        application_id,
        landed_id,
        source_file,
        source_row,
        loaded_at,
        load_id,
        rejection_reason
    from application_loads
    where rejection_reason is not null

),

rejected_outcomes as (

    select
        load_row_key,
        cast('outcomes' as varchar(16)) as source_table,
        application_id,
        landed_id,
        source_file,
        source_row,
        loaded_at,
        load_id,
        rejection_reason
    from outcome_loads
    where rejection_reason is not null

),

final as (

    select * from rejected_applications
    union all
    select * from rejected_outcomes

)

select * from final
