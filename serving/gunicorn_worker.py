"""gunicorn's gthread worker, with threads that wait briefly for a connection's next request.

Stock gthread hands every keep-alive connection back to the worker's main thread after each
response: the main thread registers it with its poller, wakes when the next request arrives,
and submits it to the thread pool again. Under the API's load every one of those steps waits
for the process's GIL behind the request and batch threads, so two extra thread hand-offs per
request show up as latency (docs/benchmarks.md has the measured effect). Here the thread that
served a request keeps the connection for up to LINGER_SECONDS (a `poll` that releases the GIL)
and serves the next request itself; a connection that stays quiet longer goes back to the
poller, so idle clients hold no thread.
"""

from __future__ import annotations

import select
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# A client that sends its next request as soon as it has read a response (a busy API client, a
# load balancer's pooled connection) does so well within this; a browser or a quiet client
# costs a thread this long, then waits in the poller.
LINGER_SECONDS = 0.002


def _buffered(conn: Any) -> bool:
    """True if the connection's parser already holds bytes of a next (pipelined) request."""
    buffer = getattr(getattr(conn.parser, "unreader", None), "buf", None)
    if buffer is None:
        return False
    with buffer.getbuffer() as view:
        return view.nbytes > 0


def _readable_soon(sock: Any) -> bool:
    """True if the socket has data (or the client closed it) within LINGER_SECONDS.

    poll, not select: select refuses descriptors above 1023, which a busy worker can have.
    """
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(LINGER_SECONDS * 1000))


class LingeringThreadWorker(ThreadWorker):
    """gthread whose threads serve a keep-alive connection's next request when it comes soon."""

    def handle(self, conn: Any) -> Any:
        """Serve the connection's requests while each next one arrives within LINGER_SECONDS."""
        keep = super().handle(conn)
        while keep is True and self.alive and not conn.is_http2:
            if not _buffered(conn) and not _readable_soon(conn.sock):
                return keep  # quiet: back to the main thread's poller
            keep = super().handle(conn)
        return keep
