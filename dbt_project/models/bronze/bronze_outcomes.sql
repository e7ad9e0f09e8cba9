with source_outcomes as (

    select * from {{ source('raw', 'outcomes') }}
    {% if is_incremental() %}
        where _load_id > (select coalesce(max(landed.load_id), 0) from {{ this }} as landed)
    {% endif %}

),

final as (

    select
        id,
        loan_default,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        _load_id as load_id
    from source_outcomes

)

select * from final
