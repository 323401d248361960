"""Bare Flask app returning a small JSON body: the ceiling for any Flask route under gunicorn.

Served by bench/wrk_bench.py with the same gunicorn flags as `netralitas serve`.
"""

from __future__ import annotations

import os

from a2wsgi import WSGIMiddleware
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def noop():
    return jsonify({"ok": True, "service": "bare-noop"})


# Served as the kit is (`netralitas serve`): gunicorn's asgi worker, Flask on a2wsgi's thread pool.
asgi = WSGIMiddleware(app, workers=int(os.environ.get("BENCH_THREADS", "4")))
