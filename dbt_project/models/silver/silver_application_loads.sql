with bronze_applications as (

    select * from {{ ref('bronze_applications') }}

),

typed as (

    select
        {{ loanops_clean_application_columns() }},
        id as landed_id,
        source_file,
        source_row,
        loaded_at,
        load_id
    from bronze_applications

),

checked as (

    select
        *,
        {{ loanops_rejection_reason() }} as rule_violation
    from typed

),

ranked as (

    select
        *,
        row_number() over (
            partition by
                application_id,
                case when rule_violation is null then 1 else 0 end
            order by load_id desc, source_row desc
        ) as load_rank,
        cast(application_id as varchar(20)) as application_id_text
    from checked

),

final as (

    select
        application_id,
        {{ loanops_clean_column_names() | join(', ') }},
        landed_id,
        source_file,
        source_row,
        loaded_at,
        load_id,
        case
            when rule_violation is not null then rule_violation
            when load_rank > 1
                then concat('superseded by a later load of application ', application_id_text)
        end as rejection_reason
    from ranked

)

select * from final
