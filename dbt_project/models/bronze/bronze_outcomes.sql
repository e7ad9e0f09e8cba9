{#- Appends the raw rows of loads newer than any already here; load_row_key is the grain (one
    row per landed row) as one column. -#}
{{ loanops_require_incremental_columns(['load_row_key']) }}

with source_outcomes as (

    select * from {{ source('raw', 'outcomes') }}
    {% if is_incremental() %}
        where _load_id > (select coalesce(max(landed.load_id), 0) from {{ this }} as landed)
    {% endif %}

),

final as (

    select
        {{ loanops_load_row_key('_load_id', '_source_row') }} as load_row_key,
        id,
        loan_default,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        _load_id as load_id
    from source_outcomes

)

select * from final
