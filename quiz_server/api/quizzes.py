"""Quiz list for the calling learner."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from quiz_server.api.endpoint import Call, endpoint
from quiz_server.models import Quiz
from quiz_server.services import attempts


@endpoint("GET", "/quizzes", "Daftar kuis dengan batas dan hasil terbaik peserta.", roles=("learner",))
def list_quizzes(call: Call):
    progress = {m["quiz_id"]: m for m in attempts.progress(call.uow, call.me.id)["modules"]}
    out = []
    for q in call.uow.session.scalars(select(Quiz).order_by(Quiz.position)):
        mine = progress.get(q.id, {})
        out.append(
            {
                "id": q.id,
                "title": q.title,
                "module_id": q.module_id,
                "pass_percent": q.pass_percent,
                "attempts_allowed": q.attempts_allowed,
                "attempts_used": mine.get("attempts_used", 0),
                "best_percent": mine.get("best_percent"),
                "questions_per_attempt": q.questions_per_attempt,
                "time_limit_minutes": q.time_limit_minutes,
            }
        )
    return jsonify({"quizzes": out})
