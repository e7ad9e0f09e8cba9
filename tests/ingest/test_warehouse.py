"""`loanops.warehouse`: one connection and one DataFrame reader for every target."""

from __future__ import annotations

from loanops import warehouse


def test_read_frame_on_each_engine(settings):
    conn = warehouse.connect(settings)
    try:
        conn.execute("create table answer as select 42 as value, 'x' as label")
        conn.commit()
    finally:
        conn.close()

    frame = warehouse.read_frame(settings, "select value, label from answer")

    assert frame.to_dict("records") == [{"value": 42, "label": "x"}]
