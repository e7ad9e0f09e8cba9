-- Every bronze outcome row is either used in silver or rejected with a reason.
select
    bronze_rows,
    silver_rows,
    rejected_rows
from (
    select
        (select count(*) from {{ ref('bronze_outcomes') }}) as bronze_rows,
        (select count(*) from {{ ref('silver_outcomes') }}) as silver_rows,
        (
            select count(*) from {{ ref('silver_rejected_rows') }}
            where source_table = 'outcomes'
        ) as rejected_rows
) as counts
where bronze_rows <> silver_rows + rejected_rows
