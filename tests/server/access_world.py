"""A small world with every role, for the access matrix: two learners, two trainers, two HR
accounts of different instansi, an admin, a grader of the course; an open attempt, a hand-in, a
workshop, and a certificate the server issued when the other learner passed the quiz."""

from __future__ import annotations

import json
from dataclasses import dataclass

import requests

from quiz_server import db
from quiz_server.services.accounts import create_staff
from tests.server.test_certification import take_quiz

ROLES = ("anon", "learner", "other_learner", "trainer", "other_trainer", "hr", "other_hr", "admin", "grader")
PASSWORD = "kata-sandi-uji-panjang"


@dataclass
class World:
    url: str
    tokens: dict[str, str | None]
    ids: dict[str, str]
    web: dict[str, requests.Session]


def _staff(live, name: str, role: str, instansi: str | None) -> str:
    course = "mini" if role == "grader" else None
    with db.unit_of_work(live.app) as uow:
        create_staff(uow, username=name, role=role, password=PASSWORD, instansi_id=instansi, course_id=course)
        uow.commit()
    return live.api().post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).json()["token"]


def _web_login(live, path: str, field: str, who: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{live.url}{path}", timeout=30).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = s.post(f"{live.url}{path}", data={field: who, "password": PASSWORD, "csrf_token": csrf}, timeout=30)
    assert r.status_code == 200, r.status_code
    return s


def build(live) -> World:
    learner, l_api = live.register(instansi_id="kab-bengkalis", password=PASSWORD)
    other, o_api = live.register(instansi_id="kab-bengkalis", password=PASSWORD)
    tokens = {
        "anon": None,
        "learner": l_api.token,
        "other_learner": o_api.token,
        "trainer": _staff(live, "pelatih-a", "trainer", None),
        "other_trainer": _staff(live, "pelatih-b", "trainer", None),
        "hr": _staff(live, "hr-a", "hr", "kab-bengkalis"),
        "other_hr": _staff(live, "hr-b", "hr", "bkn"),
        "admin": _staff(live, "admin-a", "admin", None),
        "grader": _staff(live, "grader-a", "grader", None),
    }
    attempt = l_api.post("/api/v1/quizzes/m01/attempts", json={}).json()["attempt"]
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    sub = l_api.post("/api/v1/exercises/m01-latihan/submissions", json=nb).json()["submission"]
    t_api = live.api(tokens["trainer"])
    ws = t_api.post(
        "/api/v1/workshops",
        json={"title": "Lokakarya uji", "date": "2026-11-23", "place": "Aula", "quiz_id": "m01", "mode": "live"},
    ).json()["workshop"]
    l_api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]})
    take_quiz(live, o_api)  # the server certifies the other learner; the learner keeps an open attempt only
    cert = o_api.get("/api/v1/me/certificate").json()["certificate"]
    ids = {
        "attempt": attempt["id"],
        "submission": str(sub["id"]),  # the random public id
        "submission_row": str(live.sql("SELECT id FROM exercise_submissions WHERE public_id = :p", p=sub["id"])[0][0]),
        "workshop": str(ws["id"]),
        "code": cert["code"],
        "nip": other["nip"],
    }
    web = {
        "anon": requests.Session(),
        "learner": _web_login(live, "/masuk", "nip", learner["nip"]),
        "other_learner": _web_login(live, "/masuk", "nip", other["nip"]),
    }
    for role, name in (
        ("trainer", "pelatih-a"),
        ("other_trainer", "pelatih-b"),
        ("hr", "hr-a"),
        ("other_hr", "hr-b"),
        ("admin", "admin-a"),
        ("grader", "grader-a"),
    ):
        web[role] = _web_login(live, "/staf/masuk", "username", name)
    json.dumps(ids)
    return World(live.url, tokens, ids, web)
