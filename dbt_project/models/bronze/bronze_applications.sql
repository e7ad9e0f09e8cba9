{#- Appends the raw rows of loads newer than any already here; load_row_key is the grain (one
    row per landed row) as one column. -#}
{{ loanops_require_incremental_columns(['load_row_key']) }}

with source_applications as (

    select * from {{ source('raw', 'applications') }}
    {% if is_incremental() %}
        where _load_id > (select coalesce(max(landed.load_id), 0) from {{ this }} as landed)
    {% endif %}

),

final as (

    select
        {{ loanops_load_row_key('_load_id', '_source_row') }} as load_row_key,
        id,
        client_income,
        car_owned,
        bike_owned,
        active_loan,
        house_own,
        child_count,
        credit_amount,
        loan_annuity,
        accompany_client,
        client_income_type,
        client_education,
        client_marital_status,
        client_gender,
        loan_contract_type,
        client_housing_type,
        population_region_relative,
        age_days,
        employed_days,
        registration_days,
        id_days,
        own_house_age,
        mobile_tag,
        homephone_tag,
        workphone_working,
        client_occupation,
        client_family_members,
        client_city_rating,
        application_process_day,
        application_process_hour,
        client_permanent_match_tag,
        client_contact_work_tag,
        type_organization,
        score_source_1,
        score_source_2,
        score_source_3,
        social_circle_default,
        phone_change,
        credit_bureau,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at,
        _load_id as load_id
    from source_applications

)

select * from final
