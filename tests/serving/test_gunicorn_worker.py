"""The lingering gthread worker under a real gunicorn: keep-alive, pipelining, quiet clients."""

from __future__ import annotations

import json
import socket
import time

import requests

from serving.gunicorn_worker import LINGER_SECONDS
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


def test_server_runs_the_lingering_worker(gunicorn):
    server = gunicorn(workers=1)
    assert "Using worker: serving.gunicorn_worker.LingeringThreadWorker" in server.log.read_text()


def test_pipelined_requests_are_all_answered(gunicorn):
    # Stock gthread parks the connection in its poller with the second request already read
    # into the parser's buffer, so that request waits for the keep-alive timeout.
    server = gunicorn(workers=1)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(HEALTH * 3)
        data = _read_responses(sock, 3, seconds=3.0)
    assert data.count(b"HTTP/1.1 200") == 3


def test_keep_alive_connection_quiet_past_the_linger_is_still_served(gunicorn):
    server = gunicorn(workers=1)
    with requests.Session() as session:
        first = session.post(f"{server.url}/v1/predictions", json=example(0), headers=AUTH)
        time.sleep(LINGER_SECONDS * 100)  # back in the poller by now
        second = session.post(f"{server.url}/v1/predictions", json=example(1), headers=AUTH)
        back_to_back = [
            session.post(f"{server.url}/v1/predictions", json=example(i % 2), headers=AUTH)
            for i in range(10)
        ]
    answers = [first, second, *back_to_back]
    assert [r.status_code for r in answers] == [200] * 12
    ids = {r.json()["prediction_id"] for r in answers}
    assert len(ids) == 12


def test_client_that_closes_while_the_thread_lingers_leaves_the_worker_serving(gunicorn):
    server = gunicorn(workers=1)
    for _ in range(20):  # each closes right after its response, inside the linger
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(HEALTH)
            assert b"HTTP/1.1 200" in _read_responses(sock, 1)
    # a half-sent request then a close: the thread must give the connection up, not hang
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /v1/predictions HTTP/1.1\r\nHost: test\r\nContent-Length: 500\r\n\r\n{")
    reply = requests.get(f"{server.url}/healthz", timeout=10)
    assert reply.status_code == 200 and json.loads(reply.text)["status"] == "ok"
