"""The API under a real gunicorn (gthread): keep-alive clients, quiet ones, ones that leave."""

from __future__ import annotations

import json
import socket
import time

import requests

from tests.serving.conftest import AUTH
from tests.serving.samples import example

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"


def _read_responses(sock: socket.socket, count: int, seconds: float = 5.0) -> bytes:
    """Read until `count` complete 200 responses arrived (or the time is up)."""
    sock.settimeout(seconds)
    data = b""
    deadline = time.monotonic() + seconds
    while data.count(b"HTTP/1.1 200") < count and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_server_runs_the_stock_threaded_worker(gunicorn):
    server = gunicorn(workers=1)
    assert "Using worker: gthread" in server.log.read_text()


def test_keep_alive_connection_that_goes_quiet_is_still_served(gunicorn):
    server = gunicorn(workers=1)
    with requests.Session() as session:
        first = session.post(f"{server.url}/v1/predictions", json=example(0), headers=AUTH)
        time.sleep(0.2)  # back in the worker's poller by now
        second = session.post(f"{server.url}/v1/predictions", json=example(1), headers=AUTH)
        back_to_back = [
            session.post(f"{server.url}/v1/predictions", json=example(i % 2), headers=AUTH)
            for i in range(10)
        ]
    answers = [first, second, *back_to_back]
    assert [r.status_code for r in answers] == [200] * 12
    ids = {r.json()["prediction_id"] for r in answers}
    assert len(ids) == 12


def test_clients_that_close_early_leave_the_worker_serving(gunicorn):
    server = gunicorn(workers=1)
    for _ in range(20):  # each closes right after its response
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(HEALTH)
            assert b"HTTP/1.1 200" in _read_responses(sock, 1)
    # a half-sent request then a close: the thread must give the connection up, not hang
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /v1/predictions HTTP/1.1\r\nHost: test\r\nContent-Length: 500\r\n\r\n{")
    reply = requests.get(f"{server.url}/healthz", timeout=10)
    assert reply.status_code == 200 and json.loads(reply.text)["status"] == "ok"
