"""Learner registration, staff accounts, and logins that never reveal whether an NIP exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from netralitas.errors import Conflict, InvalidInput
from netralitas.nip import parse_nip
from quiz_server.models import GraderCourse, Instansi, Learner, Staff
from quiz_server.services import audit, summary
from quiz_server.services.credentials import hash_password, issue_token, verify_password
from quiz_server.services.errors import InvalidCredentials, LearnerExists, UnknownInstansi
from quiz_server.services.passwords import staff_password_problem
from quiz_server.uow import UnitOfWork

# grader: the grading side's account (nbgrader), scoped to one course; it pushes exercise scores
# and asks the server to certify (docs/certificates.md).
ROLES = ("trainer", "hr", "admin", "grader")


def register_learner(
    uow: UnitOfWork,
    *,
    nip: str,
    nip_kind: str,
    name: str,
    email: str,
    instansi_id: str,
    unit: str,
    password: str | None = None,
    password_hash: str | None = None,
    token_days: int,
    kind: str = "api",
) -> tuple[Learner, str]:
    """Create a learner and return ``(learner, token)``; ``kind`` 'web' for a page session.

    Callers outside tests come through ``services/registration.py``, which has checked the roster
    and the email code and passes the ``password_hash`` it took with the request."""
    parsed = parse_nip(nip, nip_kind)
    if password_hash is None:
        if password is None:
            raise TypeError("register_learner needs password or password_hash")
        password_hash = hash_password(password)  # slow on purpose: before the write transaction
    s = uow.write()
    if s.get(Instansi, instansi_id) is None:
        raise UnknownInstansi()
    if s.scalar(select(Learner.id).where(Learner.nip == parsed.digits)):
        raise LearnerExists()
    learner = Learner(
        nip=parsed.digits,
        nip_kind=parsed.kind.value,
        name=name,
        email=email,
        instansi_id=instansi_id,
        unit=unit,
        password_hash=password_hash,
    )
    s.add(learner)
    try:
        s.flush()
    except IntegrityError:  # a concurrent registration of the same NIP won the race
        raise LearnerExists() from None
    token = issue_token(s, kind=kind, learner_id=learner.id, days=token_days)
    audit.record(uow, f"learner:{learner.id}", "register", learner.instansi_id)
    # Counted as registered there; a roster elsewhere that lists the NIP now shows a conflict.
    summary.mark_instansi(s.connection(), [instansi_id])
    summary.mark_nip(s.connection(), learner.nip)
    return learner, token


def _nip_digits(nip: str) -> str:
    return "".join(str(nip).split())


def login_key(*, nip: str | None, username: str | None) -> str:
    """The account a login names, exactly as the lookup reads it, for the per-account rate limit:
    spaces inside a NIP name the same account, so they cannot buy a fresh budget."""
    return f"nip:{_nip_digits(nip)}" if nip is not None else f"staff:{username or ''}"


def _find_account(uow: UnitOfWork, *, nip: str | None, username: str | None) -> Learner | Staff | None:
    if nip is not None:
        return uow.session.scalar(select(Learner).where(Learner.nip == _nip_digits(nip)))
    return uow.session.scalar(select(Staff).where(Staff.username == username))


def login(
    uow: UnitOfWork, *, nip: str | None, username: str | None, password: str, token_days: int, kind: str = "api"
) -> tuple[str, Learner | Staff]:
    """Check credentials and issue a token (``kind`` 'api') or a web session ('web').

    A refusal is audited and that record is committed before :class:`InvalidCredentials` is raised:
    the only place a service commits, because the caller's rollback of a refused request would
    otherwise erase the trace of a password-guessing run.
    """
    account = _find_account(uow, nip=nip, username=username)
    ok = verify_password(account.password_hash if account else None, password)
    who = f"{'learner' if isinstance(account, Learner) else 'staff'}:{account.id}" if account else "anonymous"
    # A disabled staff account gets the same answer as a wrong password, after the same work.
    disabled = isinstance(account, Staff) and account.disabled_at is not None
    if not ok or account is None or disabled:
        audit.record(uow, who, "login_failed", "disabled" if disabled and ok else None)
        uow.commit()
        # A fresh exception per refusal: one shared instance grows its __traceback__ on every raise and
        # keeps each failed attempt's frames, submitted passwords included, alive for the process's life.
        raise InvalidCredentials()
    field = "learner_id" if isinstance(account, Learner) else "staff_id"
    token = issue_token(uow.write(), kind=kind, days=token_days, **{field: account.id})
    audit.record(uow, who, "login", kind)
    return token, account


def create_staff(
    uow: UnitOfWork, *, username: str, role: str, password: str, instansi_id: str | None, course_id: str | None = None
) -> Staff:
    """Create a staff account; a ``grader`` is bound to ``course_id`` (the ``id`` of course.yaml)."""
    if role not in ROLES:
        raise InvalidInput(f"Peran harus salah satu dari: {', '.join(ROLES)}.", code="invalid_role")
    if role == "hr" and not instansi_id:
        raise InvalidInput("Akun HR wajib terikat pada satu instansi (--instansi).", code="instansi_required")
    if role == "grader" and not course_id:
        raise InvalidInput("Akun grader wajib terikat pada satu kursus (--course).", code="course_required")
    s = uow.session
    if instansi_id and s.get(Instansi, instansi_id) is None:
        raise UnknownInstansi(f"Instansi '{instansi_id}' tidak dikenal.")
    if s.scalar(select(Staff.id).where(Staff.username == username)):
        raise Conflict(
            f"Nama pengguna '{username}' sudah dipakai. Kata sandinya hilang? "
            f"Jalankan: netralitas users reset-password {username}",
            code="user_exists",
        )
    problem = staff_password_problem(password, username)
    if problem:
        raise InvalidInput(problem, code="weak_password")
    staff = Staff(username=username, role=role, instansi_id=instansi_id, password_hash=hash_password(password))
    s = uow.write()
    s.add(staff)
    s.flush()
    if role == "grader":
        s.add(GraderCourse(staff_id=staff.id, course_id=course_id))
    audit.record(uow, "cli", "staff_created", f"staff:{staff.id}", role=role)
    return staff
