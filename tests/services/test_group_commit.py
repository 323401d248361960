"""Group commit on SQLite (uow.GroupCommit, issue #18): units that reach their commit while another
unit holds the write lock are committed together, one COMMIT for all; a unit whose statement fails
gets its error alone and the others are stored."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from quiz_server import db
from quiz_server.models import AuditEvent
from quiz_server.services import audit
from quiz_server.uow import Retry, UnitOfWork

DEADLINE = 20.0


def _until(condition, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _stored(app, action: str) -> list[str]:
    with UnitOfWork(db.handles(app)) as uow:
        rows = uow.session.scalars(select(AuditEvent.target).where(AuditEvent.action == action))
        return sorted(rows)


def _crowd(app, action: str, n: int, fail: set[int], before_release=None) -> dict[int, BaseException | None]:
    """Unit 0 leads and holds its batch open until units 1..n-1 are queued behind it; returns how
    each unit's commit ended (None: committed). ``before_release()`` runs just before unit 0 goes on."""
    handles = db.handles(app)
    group = handles.group
    assert group is not None  # SQLite: on by default
    release = threading.Event()
    ended: dict[int, BaseException | None] = {}

    def unit(i: int) -> None:
        with UnitOfWork(handles) as uow:
            audit.record(uow, "test", action, f"unit-{i}")
            if i == 0:
                uow.stage(lambda _conn: release.wait(DEADLINE))
            if i in fail:

                def lose(_conn) -> None:
                    raise Retry()

                uow.stage(lose)
            try:
                uow.commit()
                ended[i] = None
            except BaseException as exc:  # the test reports what each unit got
                ended[i] = exc

    threads = [threading.Thread(target=unit, args=(0,))]
    threads[0].start()
    _until(lambda: group.leading, "the first unit to lead")
    for i in range(1, n):
        threads.append(threading.Thread(target=unit, args=(i,)))
        threads[-1].start()
    _until(lambda: group.waiting == n - 1, "the other units to queue")
    if before_release is not None:
        before_release()
    release.set()
    for t in threads:
        t.join(DEADLINE)
    assert len(ended) == n
    return ended


def test_units_queued_behind_a_commit_are_committed_together(app):
    group = db.handles(app).group
    before_batches, before_units = group.batches, group.units
    ended = _crowd(app, "group_commit_test", 6, fail=set())
    assert ended == dict.fromkeys(range(6))
    assert _stored(app, "group_commit_test") == [f"unit-{i}" for i in range(6)]
    # The leader's own batch, then the five that queued meanwhile in one transaction.
    assert (group.batches - before_batches, group.units - before_units) == (2, 6)


def test_a_failing_unit_is_rolled_back_alone(app):
    ended = _crowd(app, "group_commit_fail", 5, fail={2})
    assert isinstance(ended[2], Retry)
    assert {i: e for i, e in ended.items() if i != 2} == dict.fromkeys([0, 1, 3, 4])
    # Unit 2's audit row went with its savepoint; the others' rows are stored.
    assert _stored(app, "group_commit_fail") == ["unit-0", "unit-1", "unit-3", "unit-4"]


def test_when_the_write_lock_fails_every_queued_unit_gets_the_error(app, monkeypatch):
    """None of the queued units may report success when their batch could not be written."""
    lock = db.handles(app).write_lock
    acquire = lock.acquire

    def refuse() -> None:  # once: the next batch gets the lock again
        monkeypatch.setattr(lock, "acquire", acquire)
        raise OSError("flock refused")

    ended = _crowd(
        app, "group_commit_lock", 4, fail=set(), before_release=lambda: monkeypatch.setattr(lock, "acquire", refuse)
    )
    assert ended[0] is None  # its batch had the lock already
    assert all(isinstance(ended[i], OSError) for i in (1, 2, 3)), ended
    assert _stored(app, "group_commit_lock") == ["unit-0"]


def test_a_unit_can_go_on_after_a_group_commit(app):
    with UnitOfWork(db.handles(app)) as uow:
        audit.record(uow, "test", "group_commit_again", "first")
        uow.commit()
        audit.record(uow, "test", "group_commit_again", "second")
        uow.commit()
        n = uow.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "group_commit_again")
        )
    assert n == 2


@pytest.mark.parametrize("write_first", [True, False])
def test_an_open_write_commits_on_its_own(app, write_first):
    """A unit that opened its write transaction (uow.write) commits it directly, as before."""
    handles = db.handles(app)
    before = handles.group.batches
    with UnitOfWork(handles) as uow:
        if write_first:
            uow.write()
        audit.record(uow, "test", "group_commit_direct", str(write_first))
        uow.commit()
    assert _stored(app, "group_commit_direct") == [str(write_first)]
    assert handles.group.batches - before == (0 if write_first else 1)


def _queue_later(handles, action: str, i: int, fail: bool = False):
    """A unit queued with commit_later (as the ASGI router's event loop does); returns its future."""
    uow = UnitOfWork(handles)
    audit.record(uow, "test", action, f"unit-{i}")
    if fail:

        def lose(_conn) -> None:
            raise Retry()

        uow.stage(lose)
    done = uow.commit_later()
    assert done is not None  # whole write staged, SQLite: it goes to the group
    done.add_done_callback(lambda _f: uow.close())
    return done


def _outcome(done) -> BaseException | None:
    return done.exception(timeout=DEADLINE)


@pytest.mark.parametrize("also_waiting", [0, 2])
def test_units_that_do_not_wait_are_committed_in_the_next_batch(app, also_waiting):
    """Units queued with commit_later behind a leading thread (with or without threads waiting
    beside them) are committed in one batch after it; each future ends with its unit's outcome."""
    handles = db.handles(app)
    group = handles.group
    action = f"group_commit_later_{also_waiting}"
    before_batches = group.batches
    futures: dict[int, object] = {}

    def queue_later() -> None:
        for i in range(1, 5):
            futures[i] = _queue_later(handles, action, i, fail=i == 3)

    ended = _crowd(app, action, 1 + also_waiting, fail=set(), before_release=queue_later)
    outcomes = {i: _outcome(f) for i, f in futures.items()}
    assert ended == dict.fromkeys(range(1 + also_waiting))
    assert isinstance(outcomes.pop(3), Retry)
    assert outcomes == dict.fromkeys([1, 2, 4])
    stored = [f"unit-{i}" for i in range(1 + also_waiting)] + [f"unit-{i}" for i in (1, 2, 4)]
    assert _stored(app, action) == sorted(stored)
    assert group.batches - before_batches == 2  # the leader's, then everyone queued meanwhile
    _until(lambda: not group.leading, "the group to go idle")


def test_a_unit_queued_alone_is_committed_by_the_committer_thread(app):
    handles = db.handles(app)
    before = handles.group.batches
    done = _queue_later(handles, "group_commit_alone", 0)
    assert _outcome(done) is None
    assert not done.cancel()  # a queued commit cannot be called off
    assert _stored(app, "group_commit_alone") == ["unit-0"]
    assert handles.group.batches - before == 1
    _until(lambda: not handles.group.leading, "the group to go idle")
