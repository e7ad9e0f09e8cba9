"""WAL checkpoints of the SQLite store from a background thread, off the commit path.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages: it
copies the WAL into the database and fsyncs both, about half of a 1,000-row insert. The writer
connections raise that threshold to a backstop (engine.py) and this thread, woken once commits
have written about 4 MB, runs a PASSIVE checkpoint instead, beside the writers and readers;
once the WAL holds RESTART_BYTES, a second PASSIVE pass with the writers held copies what they
added meanwhile (a few milliseconds). Once it has copied everything the next writer starts the
WAL again from the top, so the file stays about RESTART_BYTES (or one large batch) long;
without the second pass busy writers would keep it from ever being all copied, and it would
grow to `limit_bytes`.

Durability does not depend on this thread: with synchronous=NORMAL a commit is not fsynced,
only written to the WAL, which survives a process crash; a checkpoint fsyncs the WAL before
copying and the database after (about every CHECKPOINT_BYTES of commits, or after IDLE_SECONDS
of quiet), and an interrupted one is simply redone.

If the WAL file still grows past `limit_bytes` (a long reader pinning old pages), the thread
takes the store's write lock and runs a TRUNCATE checkpoint, which waits up to TRUNCATE_WAIT_MS
for readers and empties the file; if readers hold on it tries again later.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger("serving.store")

WAL_LIMIT_BYTES = 64 * 1024 * 1024
CHECKPOINT_BYTES = 4_000_000  # about SQLite's own default threshold (1,000 pages of 4 KiB)
RESTART_BYTES = 4 * CHECKPOINT_BYTES  # a WAL this long is copied with the writers held, then reused
ROW_BYTES = 4096  # WAL bytes a stored row adds, about (its ~3.5 KB and its index entries)
COMMIT_BYTES = 64 * 1024  # and a commit: the table page and three index leaves it rewrites
TRUNCATE_WAIT_MS = 200  # how long a TRUNCATE checkpoint waits for readers, writers held
TRUNCATE_RETRY_SECONDS = 2.0
IDLE_SECONDS = 5.0  # also checkpoint this often, so a quiet WAL is copied and synced too


class WalCheckpointer:
    """One daemon thread per process that checkpoints `path`'s WAL as commits fill it."""

    def __init__(
        self,
        path: str,
        write_lock: Callable[[], AbstractContextManager[object]],
        limit_bytes: int = WAL_LIMIT_BYTES,
        busy_timeout_ms: int = 10_000,
        retry_seconds: float = TRUNCATE_RETRY_SECONDS,
        checkpoint_bytes: int = CHECKPOINT_BYTES,
        restart_bytes: int = RESTART_BYTES,
    ) -> None:
        self.path = path
        self.wal = f"{path}-wal"
        self.write_lock = write_lock
        self.limit_bytes = limit_bytes
        self.retry_seconds = retry_seconds
        self._truncate_after = 0.0  # monotonic time before which no TRUNCATE is tried again
        self.busy_timeout_ms = busy_timeout_ms
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.checkpoint_bytes = checkpoint_bytes
        self.restart_bytes = restart_bytes
        self._pending_bytes = 0
        self.wakes = 0  # times a commit woke the thread
        self.runs = 0  # checkpoints the thread has finished (tests wait on it)

    def committed(self, rows: int) -> None:
        """A commit of `rows` rows happened: checkpoint once about CHECKPOINT_BYTES are in the WAL.

        The WAL's growth is estimated from rows and commits: a 1,000-row batch wakes the thread
        at once, single applications every ~60 commits, so the WAL restart that follows a
        checkpoint (one fsync of its header in the next COMMIT) stays rare for small commits.
        """
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            self._ensure_thread()
        self._pending_bytes += rows * ROW_BYTES + COMMIT_BYTES
        if self._pending_bytes >= self.checkpoint_bytes:
            self._pending_bytes = 0
            self.wakes += 1
            self._wake.set()

    def _ensure_thread(self) -> None:
        with self._start:
            thread = self._thread
            if thread is not None and self._pid == os.getpid() and thread.is_alive():
                return
            self._stop = threading.Event()
            self._wake = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop, self._wake), name="wal-checkpoint", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the thread (the next commit starts a new one)."""
        with self._start:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wake.set()
        if thread is not None and thread is not threading.current_thread() and thread.is_alive():
            thread.join(timeout=30)

    def _run(self, stop: threading.Event, wake: threading.Event) -> None:
        while not stop.is_set():
            wake.wait(IDLE_SECONDS)
            wake.clear()
            if stop.is_set():
                return
            try:
                self.checkpoint()
            except (sqlite3.Error, OSError) as exc:  # store away: the writers report it
                log.debug("wal checkpoint failed", extra={"error_type": type(exc).__name__})
            self.runs += 1

    def _connect(self) -> sqlite3.Connection:
        """A connection to the existing file only (never creates an empty database)."""
        uri = f"file:{quote(str(Path(self.path).resolve()))}?mode=rw"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def checkpoint(self) -> tuple[int, int, int]:
        """PASSIVE checkpoints, TRUNCATE if the WAL passed the limit: (busy, frames, copied).

        The first copies the bulk beside the writers. Writers commit meanwhile, so under load it
        never copies the whole WAL, and SQLite only starts the WAL again from the top when a
        writer finds all of it copied: the file would grow to the limit and the TRUNCATE then
        hold every writer for tens of milliseconds. So once the WAL holds `restart_bytes`, a
        second pass with the writers held copies what they added during the first (a few
        milliseconds), and the next commit starts the WAL over. Below
        that the writers are never held: a stream of 1,000-row batches, which add a WAL's
        worth during one pass, pays for it once per `restart_bytes`, not per checkpoint.
        """
        with contextlib.closing(self._connect()) as conn:
            result = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            if not result[0] and result[1] * page >= self.restart_bytes:
                with self.write_lock():
                    result = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if self.wal_bytes() > self.limit_bytes and time.monotonic() >= self._truncate_after:
                result = self._truncate(conn)
        return tuple(result)

    def _truncate(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """Empty the WAL, holding the write lock; waits briefly for readers, backs off if busy.

        The writers wait for the lock meanwhile, so readers get TRUNCATE_WAIT_MS, not the
        writers' busy timeout; when they hold on, the next try waits `retry_seconds`.
        """
        conn.execute(f"PRAGMA busy_timeout={TRUNCATE_WAIT_MS}")
        with self.write_lock():
            result = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        busy = bool(result[0])
        if busy:
            self._truncate_after = time.monotonic() + self.retry_seconds
            log.warning(
                "wal past its limit; readers held it", extra={"wal_bytes": self.wal_bytes()}
            )
        return result

    def wal_bytes(self) -> int:
        """The WAL file's size (0 when there is none)."""
        try:
            return os.path.getsize(self.wal)
        except FileNotFoundError:
            return 0
