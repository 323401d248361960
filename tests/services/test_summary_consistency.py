"""The summary tables agree with a full recomputation from the base tables (issue #19).

Random sequences of registrations, attempt starts and submits (passing and failing), certificate
issues (valid and already expired) and revocations, roster uploads and erasures run through the
real services on SQLite and PostgreSQL; national refreshes happen in between. Then, and at every
refresh, a recomputation in plain Python from the base tables (attempts, learners, roster,
certificates) must equal ``completion_summary``, the national rollups, the instansi report and its
people rows. A second property moves the submits to random days and checks the period filters.

One database per kind for the module: each check covers the whole database, so the examples may
pile up in any order. Each example works on instansi and NIPs of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, update

from netralitas.errors import NetralitasError
from quiz_server import create_app, db
from quiz_server.cli import prepare
from quiz_server.models import Attempt, Certificate, CompletionSummary, Instansi, Learner, ReportRollup, RosterEntry
from quiz_server.services import (
    accounts,
    attempts,
    catalog,
    certificates,
    national,
    privacy,
    report_people,
    reports,
    roster,
    summary,
)
from quiz_server.services.credentials import hash_password
from quiz_server.services.reports import CONFLICT, STATUSES, Filters
from quiz_server.uow import UnitOfWork
from tests.conftest import CONTENT
from tests.server.conftest import PG_URL, _pg_schema_url
from tests.services.conftest import next_nip

NIPS, INSTANSI, UNITS = 4, 2, ("Umum", "Keuangan")
_ids = itertools.count(1)
PROFILE = settings(
    max_examples=20,  # derandomized: the same 20 sequences every run (the suite keeps under 10 minutes)
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _two_module_course(dest: Path) -> Path:
    """The real course cut to two modules: "every module passed" is then within a short sequence."""
    shutil.copytree(CONTENT, dest)
    course = yaml.safe_load((dest / "course.yaml").read_text(encoding="utf-8"))
    course["modules"] = course["modules"][:2]
    (dest / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("summary")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp / 'quiz.sqlite'}"])
    elif not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    else:
        urls = _pg_schema_url()
    for url in urls:
        app = create_app(
            {
                "INSTANCE_PATH": str(tmp / "instance"),
                "DATABASE_URL": url,
                "CONTENT_PATH": str(_two_module_course(tmp / "content")),
                "SECRET_KEY": "unit-test-secret",
            }
        )
        prepare(app)
        yield World(app, hash_password("rahasia-sekali-123"))
        db.engine(app).dispose()


@dataclasses.dataclass
class World:
    app: Flask
    password_hash: str

    @property
    def settings(self):
        return self.app.extensions["settings"]

    def uow(self) -> UnitOfWork:
        return UnitOfWork(db.handles(self.app))


# -- operations -------------------------------------------------------------------------------------

nip_i = st.integers(0, NIPS - 1)
inst_i = st.integers(0, INSTANSI - 1)
quiz_i = st.integers(0, 1)
OPS = st.one_of(
    st.tuples(st.just("register"), nip_i, inst_i, st.integers(0, 1)),
    st.tuples(st.just("start"), nip_i, quiz_i),
    st.tuples(st.just("submit"), nip_i, quiz_i, st.booleans()),
    st.tuples(st.just("submit"), nip_i, quiz_i, st.just(True)),
    st.tuples(st.just("submit"), nip_i, quiz_i, st.just(True)),
    st.tuples(st.just("certify"), nip_i, st.sampled_from([0, -800])),  # -800 days: expired already
    st.tuples(st.just("revoke"), nip_i),
    st.tuples(st.just("roster"), inst_i, st.dictionaries(nip_i, st.integers(0, 1), min_size=1, max_size=NIPS)),
    st.tuples(st.just("erase"), nip_i),
    st.tuples(st.just("refresh")),
)
# Most people registered and listed first, so that the random steps after it meet each other.
SETUP = st.tuples(
    st.lists(st.tuples(st.just("register"), nip_i, inst_i, st.integers(0, 1)), min_size=3, max_size=NIPS),
    st.lists(
        st.tuples(st.just("roster"), inst_i, st.dictionaries(nip_i, st.integers(0, 1), min_size=2, max_size=NIPS)),
        min_size=1,
        max_size=INSTANSI,
    ),
).map(lambda parts: [*parts[1], *parts[0]])
SEQUENCES = st.tuples(SETUP, st.lists(OPS, min_size=10, max_size=30)).map(lambda parts: [*parts[0], *parts[1]])


@dataclasses.dataclass
class Example:
    """One example's own NIPs and instansi."""

    w: World
    nips: list[str]
    instansi: list[str]

    @classmethod
    def new(cls, w: World) -> Example:
        run = next(_ids)
        ex = cls(w, [next_nip() for _ in range(NIPS)], [f"uji-{run}-{i}" for i in range(INSTANSI)])
        with w.uow() as uow:
            uow.write().add_all(Instansi(id=i, name=f"Instansi Uji {i}") for i in ex.instansi)
            uow.commit()
        return ex

    def learner(self, uow: UnitOfWork, n: int) -> Learner | None:
        return uow.session.scalar(select(Learner).where(Learner.nip == self.nips[n]))

    def run(self, op: tuple) -> None:
        with self.w.uow() as uow:
            try:
                getattr(self, f"_{op[0]}")(uow, *op[1:])
            except NetralitasError:
                return  # refused (attempt limit, already registered, ...): nothing changed
            uow.commit()

    def _register(self, uow: UnitOfWork, n: int, inst: int, unit: int) -> None:
        accounts.register_learner(
            uow,
            nip=self.nips[n],
            nip_kind="pns",
            name=f"Peserta {n}",
            email="peserta@example.go.id",
            instansi_id=self.instansi[inst],
            unit=UNITS[unit],
            password_hash=self.w.password_hash,
            token_days=1,
        )

    def _start(self, uow: UnitOfWork, n: int, quiz: int) -> None:
        if (learner := self.learner(uow, n)) is not None:
            attempts.start(uow, learner.id, f"m0{quiz + 1}")

    def _submit(self, uow: UnitOfWork, n: int, quiz: int, right: bool) -> None:
        learner = self.learner(uow, n)
        if learner is None:
            return
        quiz_id = f"m0{quiz + 1}"
        open_id = uow.session.scalar(
            select(Attempt.id).where(
                Attempt.learner_id == learner.id, Attempt.quiz_id == quiz_id, Attempt.submitted_at.is_(None)
            )
        )
        if open_id is None:
            open_id = attempts.start(uow, learner.id, quiz_id)["id"]
            uow.commit()
        answers = _key(uow, open_id) if right else {}
        attempts.submit(uow, learner.id, open_id, answers, settings=self.w.settings)

    def _certify(self, uow: UnitOfWork, n: int, days: int) -> None:
        if (learner := self.learner(uow, n)) is not None:
            on = dt.date.today() + dt.timedelta(days=days)
            certificates.issue(uow, self.w.settings, learner.id, actor="uji", on=on)

    def _revoke(self, uow: UnitOfWork, n: int) -> None:
        learner = self.learner(uow, n)
        if learner is None:
            return
        for code in uow.session.scalars(select(Certificate.code).where(Certificate.learner_id == learner.id)):
            certificates.revoke(uow, code, "uji", actor="uji")

    def _roster(self, uow: UnitOfWork, inst: int, people: dict[int, int]) -> None:
        listed = [roster.Person(self.nips[n], f"Pegawai {n}", UNITS[u], "Staf") for n, u in sorted(people.items())]
        roster.replace(uow, self.instansi[inst], listed, "uji", "csv")

    def _erase(self, uow: UnitOfWork, n: int) -> None:
        privacy.erase(uow, self.nips[n], "uji")

    def _refresh(self, uow: UnitOfWork) -> None:
        national.refresh(uow, self.w.settings.zone, lag=dt.timedelta(0))
        uow.commit()
        check_rollups(self.w, uow)


def _key(uow: UnitOfWork, attempt_id: str) -> dict[str, list[str]]:
    questions = catalog.snapshot(uow).questions
    out = {}
    for entry in uow.session.get(Attempt, attempt_id).draw:
        right = {c["id"] for c in questions[entry["q"]].choices if c["correct"]}
        out[attempts.public_id(entry)] = [shown for shown, cid in entry["choices"] if cid in right]
    return out


# -- the recomputation, in Python, from the base tables ---------------------------------------------


@dataclasses.dataclass
class Base:
    quiz_ids: list[str]
    attempts: list[Any]
    learners: dict[str, Any]  # by NIP
    roster: list[Any]
    certified: set[int]
    registered: dict[str, int]

    @classmethod
    def read(cls, uow: UnitOfWork, zone) -> Base:
        s = uow.session
        today = dt.datetime.now(zone).date()
        learners = s.execute(select(Learner.id, Learner.nip, Learner.instansi_id)).all()
        registered: dict[str, int] = defaultdict(int)
        for row in learners:
            registered[row.instansi_id] += 1
        return cls(
            quiz_ids=[q.id for q in reports.quizzes(uow)],
            attempts=s.execute(
                select(Attempt.learner_id, Attempt.quiz_id, Attempt.submitted_at, Attempt.percent, Attempt.passed)
            ).all(),
            learners={row.nip: row for row in learners},
            roster=s.execute(
                select(
                    RosterEntry.instansi_id, RosterEntry.nip, RosterEntry.name, RosterEntry.unit, RosterEntry.position
                )
            ).all(),
            certified=set(
                s.scalars(
                    select(Certificate.learner_id).where(
                        Certificate.status == "valid", Certificate.valid_until >= today
                    )
                )
            ),
            registered=dict(registered),
        )

    def summary_rows(self) -> dict[tuple[int, str], tuple]:
        rows: dict[tuple[int, str], list] = {}
        for a in self.attempts:
            rows.setdefault((a.learner_id, a.quiz_id), []).append(a)
        out = {}
        for key, items in rows.items():
            done = [a for a in items if a.submitted_at is not None]
            won = [a.submitted_at for a in done if a.passed]
            times = [a.submitted_at for a in done]
            out[key] = (
                len(items),
                len(done),
                len(won),
                max((a.percent for a in done), default=None),
                min(times, default=None),
                max(times, default=None),
                min(won, default=None),
                max(won, default=None),
                max(times, default=None),
            )
        return out

    def people(self, instansi_id: str | None, start: dt.datetime | None = None, end: dt.datetime | None = None):
        """Per roster entry: (instansi, nip, name, unit, position, registered, passed count, last, status),
        and per entry the sets of quizzes tried and passed (for the module counts)."""
        by_learner: dict[int, list[Any]] = defaultdict(list)
        for a in self.attempts:
            inside = a.submitted_at is not None and (start is None or a.submitted_at >= start)
            if inside and (end is None or a.submitted_at < end) and a.quiz_id in self.quiz_ids:
                by_learner[a.learner_id].append(a)
        out = []
        for e in self.roster:
            if instansi_id is not None and e.instansi_id != instansi_id:
                continue
            learner = self.learners.get(e.nip)
            own = learner if learner is not None and learner.instansi_id == e.instansi_id else None
            mine = by_learner.get(own.id, []) if own else []
            tried = {a.quiz_id for a in mine}
            passed = {a.quiz_id for a in mine if a.passed}
            if learner is not None and own is None:
                status = CONFLICT
            elif own is not None and own.id in self.certified:
                status = "tersertifikasi"
            elif self.quiz_ids and passed == set(self.quiz_ids):
                status = "semua_modul_lulus"
            elif tried:
                status = "sedang_berjalan"
            else:
                status = "belum_mulai"
            last = max((a.submitted_at for a in mine), default=None)
            row = (e.instansi_id, e.nip, e.name, e.unit, e.position, own is not None, len(passed), last, status)
            out.append((row, tried, passed))
        return out

    def counts(self, people, key: int) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, list[int]]]]:
        """Status counts and [tried, passed] per quiz, grouped by field ``key`` of the people rows."""
        rows: dict[str, dict[str, int]] = {}
        modules: dict[str, dict[str, list[int]]] = {}
        for row, tried, passed in people:
            r = rows.setdefault(row[key], {"roster": 0, **dict.fromkeys(STATUSES, 0)})
            r["roster"] += 1
            r[row[8]] += 1
            m = modules.setdefault(row[key], {q: [0, 0] for q in self.quiz_ids})
            for q in tried:
                m[q][0] += 1
            for q in passed:
                m[q][1] += 1
        return rows, modules


# -- the checks -------------------------------------------------------------------------------------


def check_summary(uow: UnitOfWork, base: Base) -> None:
    stored = {
        (r.learner_id, r.quiz_id): (
            r.started,
            r.submitted,
            r.passed,
            r.best_percent,
            r.first_submitted_at,
            r.last_submitted_at,
            r.first_passed_at,
            r.last_passed_at,
            r.changed_at,
        )
        for r in uow.session.scalars(select(CompletionSummary))
    }
    assert stored == base.summary_rows()


def check_rollups(w: World, uow: UnitOfWork) -> None:
    base = Base.read(uow, w.settings.zone)
    rows, modules = base.counts(base.people(None), 0)
    empty = {"roster": 0, **dict.fromkeys(STATUSES, 0)}
    for r in uow.session.scalars(select(ReportRollup)):
        expected = rows.get(r.instansi_id, empty)
        assert {k: getattr(r, k) for k in ("roster", *STATUSES)} == expected, r.instansi_id
        assert r.terdaftar == base.registered.get(r.instansi_id, 0), r.instansi_id
        tried_passed = modules.get(r.instansi_id, {q: [0, 0] for q in base.quiz_ids})
        assert {q: r.modules.get(q, [0, 0]) for q in base.quiz_ids} == tried_passed, r.instansi_id
    # An instansi without a rollup row reads as zeros: it must have nothing to count.
    unlisted = set(uow.session.scalars(select(Instansi.id))) - set(
        uow.session.scalars(select(ReportRollup.instansi_id))
    )
    assert [i for i in sorted(unlisted) if i in rows or base.registered.get(i)] == []


def check_instansi(w: World, uow: UnitOfWork, base: Base, instansi_id: str, f: Filters) -> None:
    """``reports.completion`` and ``report_people.people`` against the recomputation."""
    zone = w.settings.zone
    start, end = reports.period_bounds(f, zone)
    people = [p for p in base.people(instansi_id, start, end) if f.unit is None or p[0][3] == f.unit]
    units, modules = base.counts(people, 3)
    report = reports.completion(uow, f, zone)
    assert {u["unit"]: {k: u[k] for k in ("roster", *STATUSES)} for u in report["by_unit"]} == units
    module_totals = {q: [0, 0] for q in base.quiz_ids}
    for per_unit in modules.values():
        for q, (t, p) in per_unit.items():
            module_totals[q][0] += t
            module_totals[q][1] += p
    roster_size = sum(u["roster"] for u in units.values())
    got = {m["quiz_id"]: [roster_size - m["belum_mencoba"], m["lulus"]] for m in report["by_module"]}
    assert got == module_totals
    listed = [
        (instansi_id, p.nip, p.name, p.unit, p.position, p.registered, p.passed, p.last, p.status)
        for p in report_people.people(uow, f, zone)
    ]
    assert sorted(listed, key=repr) == sorted((p[0] for p in people), key=repr)


@PROFILE
@given(ops=SEQUENCES)
def test_summary_tables_equal_a_recomputation_after_random_sequences(world, ops):
    ex = Example.new(world)
    for op in ops:
        ex.run(op)
    with world.uow() as uow:
        national.refresh(uow, world.settings.zone, lag=dt.timedelta(0))
        uow.commit()
        base = Base.read(uow, world.settings.zone)
        check_summary(uow, base)
        check_rollups(world, uow)
        for i in ex.instansi:
            check_instansi(world, uow, base, i, Filters(i))
            check_instansi(world, uow, base, i, Filters(i, unit=UNITS[0]))
        # The national view reads the rollups just checked, with their time.
        data = national.national(uow, Filters(), world.settings.zone)
        assert dt.datetime.fromisoformat(data["data_as_of"]) <= dt.datetime.fromisoformat(data["generated_at"])


DAY0 = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)  # 00:30 WIB on 2 March


@PROFILE
@given(
    ops=SEQUENCES,
    days=st.lists(st.integers(0, 9), min_size=1, max_size=12),
    periods=st.lists(st.tuples(st.none() | st.integers(0, 10), st.none() | st.integers(0, 10)), min_size=1, max_size=3),
)
def test_period_filters_equal_a_recomputation(world, ops, days, periods):
    """Submits moved to random days (as if made then), the summary rebuilt from the attempts, then
    every period reads the same figures as a recomputation from the attempts themselves."""
    ex = Example.new(world)
    for op in ops:
        ex.run(op)
    with world.uow() as uow:
        mine = list(
            uow.session.scalars(
                select(Attempt.id)
                .join(Learner, Learner.id == Attempt.learner_id)
                .where(Learner.instansi_id.in_(ex.instansi), Attempt.submitted_at.is_not(None))
                .order_by(Attempt.id)
            )
        )
        w = uow.write()
        for n, attempt_id in enumerate(mine):
            at = DAY0 + dt.timedelta(days=days[n % len(days)], hours=n % 7)
            w.execute(update(Attempt).where(Attempt.id == attempt_id).values(submitted_at=at))
        national.rebuild(uow, world.settings.zone)  # what `netralitas report rebuild-summary` does
        uow.commit()
        base = Base.read(uow, world.settings.zone)
        check_summary(uow, base)
        day = DAY0.astimezone(world.settings.zone).date()
        for a, b in periods:
            start = day + dt.timedelta(days=a) if a is not None else None
            end = day + dt.timedelta(days=b) if b is not None else None
            if start and end and start > end:
                start, end = end, start
            for i in ex.instansi:
                check_instansi(world, uow, base, i, Filters(i, None, start, end))


def test_a_period_between_two_submits_reads_the_attempts_in_between(world):
    """Submits on days 1, 5 and 9 of one quiz (the last one passing): a period around day 5 sees the
    day-5 submit, one between the submits sees none, and the last submit in a period is the one in it."""
    ex = Example.new(world)
    for op in (("roster", 0, {0: 0}), ("register", 0, 0, 0)):
        ex.run(op)
    for right in (False, False, True):
        ex.run(("submit", 0, 0, right))
    zone = world.settings.zone
    with world.uow() as uow:
        learner = ex.learner(uow, 0)
        ids = list(
            uow.session.scalars(select(Attempt.id).where(Attempt.learner_id == learner.id).order_by(Attempt.number))
        )
        w = uow.write()
        for attempt_id, day in zip(ids, (1, 5, 9), strict=True):
            w.execute(
                update(Attempt).where(Attempt.id == attempt_id).values(submitted_at=DAY0 + dt.timedelta(days=day))
            )
        national.rebuild(uow, zone)
        uow.commit()
        day0 = DAY0.astimezone(zone).date()

        def person(a: int, b: int) -> tuple[str, dt.datetime | None, int]:
            f = Filters(ex.instansi[0], None, day0 + dt.timedelta(days=a), day0 + dt.timedelta(days=b))
            (p,) = report_people.people(uow, f, zone)
            return p.status, p.last, p.passed

        assert person(4, 6) == ("sedang_berjalan", DAY0 + dt.timedelta(days=5), 0)
        assert person(2, 3) == ("belum_mulai", None, 0)
        assert person(0, 7) == ("sedang_berjalan", DAY0 + dt.timedelta(days=5), 0)
        assert person(5, 9) == ("sedang_berjalan", DAY0 + dt.timedelta(days=9), 1)
        base = Base.read(uow, zone)
        for a, b in ((4, 6), (2, 3), (0, 7), (5, 9), (9, 9), (1, 1)):
            check_instansi(
                world,
                uow,
                base,
                ex.instansi[0],
                Filters(ex.instansi[0], None, day0 + dt.timedelta(days=a), day0 + dt.timedelta(days=b)),
            )


def test_a_certificate_that_expires_is_recounted_without_any_other_change(world):
    """The day after the last counted certificate's ``valid_until`` the rollup is counted again.
    Time is moved by moving the dates: the certificate's, and the one the rollup noted from it."""
    ex = Example.new(world)
    for op in (("roster", 0, {0: 0, 1: 0}), ("register", 0, 0, 0), ("certify", 0, 0)):
        ex.run(op)
    zone = world.settings.zone
    with world.uow() as uow:
        national.refresh(uow, zone, lag=dt.timedelta(0))
        uow.commit()
        rollup = uow.session.get(ReportRollup, ex.instansi[0])
        assert rollup.tersertifikasi == 1 and rollup.cert_expires_next is not None
        yesterday = dt.datetime.now(zone).date() - dt.timedelta(days=1)
        w = uow.write()
        w.execute(
            update(Certificate).where(Certificate.learner_id == ex.learner(uow, 0).id).values(valid_until=yesterday)
        )
        w.execute(
            update(ReportRollup).where(ReportRollup.instansi_id == ex.instansi[0]).values(cert_expires_next=yesterday)
        )
        uow.commit()
        national.refresh(uow, zone, lag=dt.timedelta(0))
        uow.commit()
        check_rollups(world, uow)
        assert uow.session.get(ReportRollup, ex.instansi[0], populate_existing=True).tersertifikasi == 0


def test_start_and_submit_cost_one_statement_each(world):
    """The hot path's share (issue #18): one upsert per start and per submit, nothing read."""
    ex = Example.new(world)
    ex.run(("register", 0, 0, 0))
    seen: list[str] = []

    def count(conn, cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = db.engine(world.app)
    with world.uow() as uow:
        learner_id = ex.learner(uow, 0).id
        conn = uow.write().connection()
        event.listen(engine, "before_cursor_execute", count)
        try:
            now = dt.datetime.now(dt.UTC)
            summary.on_start(conn, learner_id=learner_id, quiz_id="m01", started_at=now)
            summary.on_submit(conn, learner_id=learner_id, quiz_id="m01", percent=90.0, passed=True, submitted_at=now)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        uow.commit()
        assert len(seen) == 2 and all(s.lstrip().upper().startswith("INSERT INTO COMPLETION_SUMMARY") for s in seen)
        row = uow.session.get(CompletionSummary, (learner_id, "m01"))
        assert (row.started, row.submitted, row.passed, row.first_passed_at) == (1, 1, 1, now)
