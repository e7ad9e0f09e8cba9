{#- A view over silver_application_loads (no build cost): the rows with no rejection reason, i.e.
    the latest valid load of each application id. The loads model is incremental. -#}
with application_loads as (

    select * from {{ ref('silver_application_loads') }}

),

final as (

    select
        application_id,
        {{ loanops_clean_column_names() | join(', ') }},
        source_file,
        source_row,
        loaded_at,
        load_id
    from application_loads
    where rejection_reason is null

)

select * from final
