"""The certification rule called directly with a unit of work: which attempts count, both tracks, the
automatic issue at submit and push, an admin's request, re-issue after revocation, and the grader push."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from types import SimpleNamespace

import pytest
import yaml
from sqlalchemy import select

from netralitas.content.models import Certification, CertificationTrack
from netralitas.errors import InvalidInput
from quiz_server.models import Attempt, AuditEvent, Certificate, ExerciseScore
from quiz_server.services import accounts, attempts, catalog, certificates, certification, exercise_scores, workshops
from quiz_server.services.certification import CertificationNotMet, GraderOutOfScope, ReissueReasonRequired
from quiz_server.services.credentials import Principal
from quiz_server.services.errors import LearnerNotFound
from tests.conftest import MINI


def passing(uow, make, learner, workshop_id: int | None = None, settings=None) -> dict:
    started = attempts.start(uow, learner.id, "m01", workshop_id)
    uow.commit()
    result = attempts.submit(uow, learner.id, started["id"], make.key(started), settings=settings or make.settings)
    uow.commit()
    return result


def failing(uow, make, learner) -> dict:
    started = attempts.start(uow, learner.id, "m01")
    uow.commit()
    result = attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings)
    uow.commit()
    return result


def certs(uow, learner) -> list[Certificate]:
    return list(uow.session.scalars(select(Certificate).where(Certificate.learner_id == learner.id)))


def audit(uow, action: str) -> list[AuditEvent]:
    return list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def trainer(make) -> Principal:
    staff = make.staff()
    return Principal("staff", staff.id, "trainer", None, staff.username)


def grader(uow, course_id: str = "mini") -> Principal:
    staff = accounts.create_staff(
        uow,
        username=f"grader-{course_id}",
        role="grader",
        password="kata-sandi-grader",
        instansi_id=None,
        course_id=course_id,
    )
    uow.commit()
    return Principal("staff", staff.id, "grader", None, staff.username)


@pytest.fixture
def with_exercises(settings, tmp_path):
    """Settings of a mini course whose track also needs the notebook exercise."""
    copy = tmp_path / "mini-latihan"
    shutil.copytree(MINI, copy)
    data = yaml.safe_load((copy / "course.yaml").read_text())
    data["certification"] = {"track": "quizzes_and_exercises"}
    (copy / "course.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return dataclasses.replace(settings, content_path=str(copy))


def score(nip: str, got: float, of: float = 10, assignment: str = "m01-latihan"):
    return SimpleNamespace(nip=nip, assignment=assignment, score=got, max_score=of)


def test_a_passing_submit_issues_the_certificate_in_its_own_unit_of_work(uow, make):
    learner = make.learner()
    failing(uow, make, learner)
    assert certs(uow, learner) == []
    assert passing(uow, make, learner)["passed"] is True
    [cert] = certs(uow, learner)
    assert cert.status == "valid"
    [event] = audit(uow, "certificate_issue")
    assert (event.actor, event.target, event.detail["trigger"]) == ("system", cert.code, "quiz_submit")
    passing(uow, make, learner)  # a third attempt: nothing new
    assert len(certs(uow, learner)) == 1


def test_a_rolled_back_submit_leaves_no_certificate(uow, make):
    learner = make.learner()
    started = attempts.start(uow, learner.id, "m01")
    uow.commit()
    attempts.submit(uow, learner.id, started["id"], make.key(started), settings=make.settings)
    uow.rollback()  # the web layer's answer to a failure after the submit
    assert certs(uow, learner) == []
    assert uow.session.get(Attempt, started["id"]).submitted_at is None


def test_missing_names_the_quiz_until_it_is_passed(uow, make, settings):
    learner = make.learner()
    rule = certification.course(settings)
    assert certification.missing_for(uow, rule, [learner.id]) == {learner.id: ["kuis-m01"]}
    failing(uow, make, learner)
    assert certification.missing_for(uow, rule, [learner.id]) == {learner.id: ["kuis-m01"]}
    exercises = rule.model_copy(update={"certification": Certification(track=CertificationTrack.QUIZZES_AND_EXERCISES)})
    assert certification.missing_for(uow, exercises, [learner.id]) == {learner.id: ["kuis-m01", "m01-latihan"]}


def test_live_workshop_answers_do_not_count_and_self_paced_ones_do(uow, make, settings):
    live_learner, paced_learner = make.learner(), make.learner()
    host = trainer(make)
    room = workshops.create(
        uow, host, title="Ruang", date=dt.date(2026, 3, 2), place="Aula", quiz_id="m01", mode="live"
    )
    uow.commit()
    workshops.join(uow, live_learner.id, room.join_code)
    uow.commit()
    questions = catalog.snapshot(uow).questions
    for i, entry in enumerate(room.questions):  # every question of the room answered right (live sessions)
        workshops.control(uow, host, room.id, "next")
        right = {c["id"] for c in questions[entry["q"]].choices if c["correct"]}
        workshops.answer(uow, live_learner.id, room.id, i, [shown for shown, cid in entry["choices"] if cid in right])
        uow.commit()
    workshops.control(uow, host, room.id, "close")
    uow.commit()
    # A full score in the room is a live-session record, not an attempt ...
    assert uow.session.scalars(select(Attempt).where(Attempt.learner_id == live_learner.id)).all() == []
    rule = certification.course(settings)
    assert certification.missing_for(uow, rule, [live_learner.id])[live_learner.id] == ["kuis-m01"]  # ... not counted
    assert certs(uow, live_learner) == []

    paced = workshops.create(
        uow, trainer(make), title="Mandiri", date=dt.date(2026, 3, 2), place="Daring", quiz_id="m01", mode="self_paced"
    )
    uow.commit()
    workshops.join(uow, paced_learner.id, paced.join_code)
    uow.commit()
    passing(uow, make, paced_learner, workshop_id=paced.id)
    assert len(certs(uow, paced_learner)) == 1


def test_the_exercise_track_waits_for_the_pushed_score(uow, make, with_exercises):
    learner = make.learner()
    passing(uow, make, learner, settings=with_exercises)
    assert certs(uow, learner) == []  # the quiz alone is not enough on this track
    who = grader(uow)
    low = exercise_scores.push(uow, with_exercises, who, "mini", [score(learner.nip, 6.5)])
    uow.commit()
    assert low["certified"] == [] and certs(uow, learner) == []
    done = exercise_scores.push(uow, with_exercises, who, "mini", [score(learner.nip, 7)])  # 70 % exactly
    uow.commit()
    assert done == {"received": 1, "changed": 1, "unchanged": 0, "unknown_learners": [], "certified": [learner.nip]}
    assert len(certs(uow, learner)) == 1
    assert audit(uow, "certificate_issue")[-1].detail["trigger"] == "exercise_scores"


def test_the_exercise_track_with_the_score_first_certifies_at_the_quiz(uow, make, with_exercises):
    learner = make.learner()
    exercise_scores.push(uow, with_exercises, grader(uow), "mini", [score(learner.nip, 9)])
    uow.commit()
    assert certs(uow, learner) == []
    passing(uow, make, learner, settings=with_exercises)
    assert len(certs(uow, learner)) == 1


def test_a_push_is_stored_once_and_every_change_is_audited(uow, make, settings):
    learner, other = make.learner(), make.learner()
    who = grader(uow)
    first = exercise_scores.push(uow, settings, who, "mini", [score(learner.nip, 3), score(other.nip, 8)])
    uow.commit()
    assert (first["changed"], first["unchanged"]) == (2, 0)
    again = exercise_scores.push(uow, settings, who, "mini", [score(learner.nip, 3), score(other.nip, 8)])
    uow.commit()
    assert (again["changed"], again["unchanged"]) == (0, 2)
    exercise_scores.push(uow, settings, who, "mini", [score(learner.nip, 5)])
    uow.commit()
    rows = {r.learner_id: (r.score, r.max_score, r.graded_by) for r in uow.session.scalars(select(ExerciseScore))}
    assert rows == {learner.id: (5, 10, who.key), other.id: (8, 10, who.key)}
    events = audit(uow, "exercise_score")
    assert len(events) == 3 and all(e.actor == who.key and e.ip == "192.0.2.1" for e in events)
    assert events[-1].detail == {"assignment": "m01-latihan", "score": 5, "max_score": 10, "previous": [3.0, 10.0]}


@pytest.mark.parametrize(
    ("items", "code"),
    [
        (lambda nip: [score(nip, 3, assignment="m99-latihan")], "assignment_not_found"),
        (lambda nip: [score(nip, 3, assignment="kuis-m01")], "assignment_not_found"),
        (lambda nip: [score(nip, 11)], "score_above_max"),
        (lambda nip: [score(nip, 3), score(nip, 4)], "duplicate_score"),
    ],
)
def test_a_bad_push_is_refused_whole_with_a_stable_code(uow, make, settings, items, code):
    learner = make.learner()
    with pytest.raises(InvalidInput) as exc:
        exercise_scores.push(uow, settings, grader(uow), "mini", items(learner.nip))
    uow.rollback()
    assert exc.value.code == code and exc.value.extra["fields"]
    assert uow.session.scalars(select(ExerciseScore)).all() == []


def test_rows_for_an_unknown_nip_are_skipped_and_named(uow, make, settings):
    learner = make.learner()
    stray = "199912312020121001"
    result = exercise_scores.push(uow, settings, grader(uow), "mini", [score(stray, 4), score(learner.nip, 3)])
    uow.commit()
    assert result["unknown_learners"] == [stray] and (result["received"], result["changed"]) == (2, 1)
    assert [r.learner_id for r in uow.session.scalars(select(ExerciseScore))] == [learner.id]


def test_a_grader_acts_only_for_its_own_course(uow, make, settings):
    learner = make.learner()
    with pytest.raises(InvalidInput) as exc:
        exercise_scores.push(uow, settings, grader(uow), "kursus-lain", [score(learner.nip, 3)])
    assert exc.value.code == "course_mismatch"
    uow.rollback()
    with pytest.raises(GraderOutOfScope):
        exercise_scores.push(uow, settings, grader(uow, "kursus-lain"), "mini", [score(learner.nip, 3)])
    with pytest.raises(GraderOutOfScope):
        certification.run(uow, settings, grader(uow, "kursus-ketiga"), [learner.nip])
    with pytest.raises(InvalidInput) as missing_course:
        accounts.create_staff(
            uow, username="tanpa-kursus", role="grader", password="kata-sandi-panjang", instansi_id=None
        )
    assert missing_course.value.code == "course_required"


def test_an_admin_request_needs_the_rule_and_a_reason_after_a_revocation(uow, make, settings):
    learner = make.learner()
    with pytest.raises(CertificationNotMet) as exc:
        certification.issue_on_request(uow, settings, learner.nip, actor="staff:1")
    assert exc.value.extra["missing"] == ["kuis-m01"]
    with pytest.raises(LearnerNotFound):
        certification.issue_on_request(uow, settings, "199001012015031999", actor="staff:1")
    uow.rollback()
    passing(uow, make, learner)
    [cert] = certs(uow, learner)
    same, created = certification.issue_on_request(uow, settings, learner.nip, actor="staff:1")
    assert same.code == cert.code and created is False
    certificates.revoke(uow, cert.code, "Data kelulusan keliru", actor="staff:1")
    uow.commit()
    for blank in (None, "   "):
        with pytest.raises(ReissueReasonRequired):
            certification.issue_on_request(uow, settings, learner.nip, actor="staff:1", reason=blank)
    uow.rollback()
    assert certification.certify_if_complete(uow, make.settings, learner.id, trigger="run") is None  # never automatic
    fresh, created = certification.issue_on_request(
        uow, settings, learner.nip, actor="staff:1", reason="Pencabutan keliru, sudah diperiksa ulang"
    )
    uow.commit()
    assert created and fresh.code != cert.code
    [event] = audit(uow, "certificate_reissue")
    assert event.actor == "staff:1" and event.target == fresh.code
    assert event.detail["reason"] == "Pencabutan keliru, sudah diperiksa ulang" and event.detail["revoked"] == cert.code


def test_run_reports_each_nip(uow, make, settings):
    done, revoked, waiting = make.learner(), make.learner(), make.learner()
    passing(uow, make, done)
    passing(uow, make, revoked)
    certificates.revoke(uow, certs(uow, revoked)[0].code, "uji", actor="staff:1")
    uow.commit()
    # A learner who passed while the server could not certify (say, before this rule existed).
    fresh = make.learner()
    passing(uow, make, fresh)
    s = uow.write()
    s.delete(certs(uow, fresh)[0])
    uow.commit()
    who = grader(uow)
    results = certification.run(uow, settings, who, [done.nip, revoked.nip, waiting.nip, fresh.nip, "1"])
    uow.commit()
    by_nip = {r["nip"]: r for r in results}
    assert by_nip[done.nip]["status"] == "already_certified" and by_nip[done.nip]["certificate_code"]
    assert by_nip[revoked.nip]["status"] == "revoked"
    assert by_nip[waiting.nip] == {
        "nip": waiting.nip,
        "status": "not_met",
        "missing": ["kuis-m01"],
        "certificate_code": None,
    }
    assert (
        by_nip[fresh.nip]["status"] == "certified"
        and certs(uow, fresh)[0].code == by_nip[fresh.nip]["certificate_code"]
    )
    assert by_nip["1"]["status"] == "unknown_learner"
    assert audit(uow, "certificate_issue")[-1].detail | {"learner_id": 0} == {
        "trigger": "run",
        "by": who.key,
        "learner_id": 0,
        "version": "1.0.0",
    }
