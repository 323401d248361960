"""Bare Flask app doing one durable SQLite insert per request (WAL, synchronous=FULL).

The baseline for a write on the hot path: one transaction, one fsync, no ORM. The database file is
BENCH_INSERT_DB; every worker thread opens its own connection; one thread per process writes at a
time. Served by bench/wrk_bench.py with the
same gunicorn flags as `netralitas serve`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from a2wsgi import WSGIMiddleware
from flask import Flask, jsonify

DB = os.environ.get("BENCH_INSERT_DB", "bare_insert.sqlite")
app = Flask(__name__)
_local = threading.local()
# One writer per process at a time, as the kit does for SQLite (quiz_server/db.py write_lock): the
# threads of one process queue here instead of in SQLite's sleeping busy handler.
_write_lock = threading.Lock()


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, at REAL NOT NULL, note TEXT NOT NULL)")
        _local.conn = conn
    return conn


@app.post("/")
def insert():
    conn = _conn()
    with _write_lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute("INSERT INTO hits (at, note) VALUES (?, ?)", (time.time(), "bench"))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return jsonify({"ok": True, "id": cur.lastrowid})


# Served as the kit is (`netralitas serve`): gunicorn's asgi worker, Flask on a2wsgi's thread pool.
asgi = WSGIMiddleware(app, workers=int(os.environ.get("BENCH_THREADS", "4")))
