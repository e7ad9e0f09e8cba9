"""`loanops.warehouse`: one transaction and one DataFrame reader, named binds on every target."""

from __future__ import annotations

import sqlalchemy as sa

from loanops import warehouse


def test_read_frame_on_each_engine(settings):
    with warehouse.begin(settings) as conn:
        conn.execute(sa.text("create table answer as select 42 as value, 'x' as label"))

    frame = warehouse.read_frame(settings, "select value, label from answer")

    assert frame.to_dict("records") == [{"value": 42, "label": "x"}]


def test_named_binds_on_each_engine(settings):
    with warehouse.begin(settings) as conn:
        conn.execute(sa.text("create table pairs (k varchar(10), v integer)"))
        for key, value in [("a", 1), ("b", 2), ("a", 3)]:
            conn.execute(sa.text("insert into pairs values (:k, :v)"), {"k": key, "v": value})

    sql = "select sum(v) as total from pairs where k = :key or v = :key_value"
    frame = warehouse.read_frame(settings, sql, {"key": "a", "key_value": 2})

    assert int(frame["total"].iloc[0]) == 6


def test_a_failed_block_writes_nothing(settings):
    with warehouse.begin(settings) as conn:
        conn.execute(sa.text("create table kept (n integer)"))
    try:
        with warehouse.begin(settings) as conn:
            conn.execute(sa.text("insert into kept values (:n)"), {"n": 1})
            raise RuntimeError("stop")
    except RuntimeError:
        pass

    assert warehouse.read_frame(settings, "select count(*) as n from kept")["n"].iloc[0] == 0


def test_the_driver_connection_serves_bulk_loads(settings):
    conn = warehouse.connect(settings)
    try:
        conn.cursor().execute("create table loaded as select 1 as n")
        conn.commit()
    finally:
        conn.close()

    assert warehouse.read_frame(settings, "select n from loaded")["n"].tolist() == [1]
