"""Learner pages: register, log in, dashboard, take a quiz, result."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("learner", __name__)


@bp.get("/")
def index():
    return render_template("learner/index.html")


@bp.get("/masuk")
def login():
    return render_template("learner/index.html")
