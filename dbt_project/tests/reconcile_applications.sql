-- Every bronze application row is either used in silver or rejected with a reason.
select
    bronze_rows,
    silver_rows,
    rejected_rows
from (
    select
        (select count(*) from {{ ref('bronze_applications') }}) as bronze_rows,
        (select count(*) from {{ ref('silver_applications') }}) as silver_rows,
        (
            select count(*) from {{ ref('silver_rejected_rows') }}
            where source_table = 'applications'
        ) as rejected_rows
) as counts
where bronze_rows <> silver_rows + rejected_rows
