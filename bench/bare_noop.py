"""Bare Flask app returning a small JSON body: the ceiling for any Flask route under gunicorn.

Served by bench/wrk_bench.py with the same gunicorn flags as `netralitas serve`.
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def noop():
    return jsonify({"ok": True, "service": "bare-noop"})
