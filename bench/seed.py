"""Fast set-up for benchmarks: learners and bearer tokens written in bulk through the real schema."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import create_engine, insert, select

from quiz_server.db import normalise_url
from quiz_server.models import Learner, Token
from quiz_server.security import hash_password, token_digest


def nip_for(i: int) -> str:
    born = dt.date(1965, 1, 1) + dt.timedelta(days=i // 999)
    return f"{born:%Y%m%d}2015031{i % 999 + 1:03d}"


def learners_with_tokens(database_url: str, n: int, instansi: str = "bkn", offset: int = 0) -> list[str]:
    """Insert ``n`` learners with one API token each; return the raw tokens."""
    pw = hash_password("bench-password-123")  # one hash shared: set-up speed, not what is measured
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    tokens = [secrets.token_urlsafe(32) for _ in range(n)]
    eng = create_engine(normalise_url(database_url))
    with eng.begin() as conn:
        conn.execute(
            insert(Learner),
            [
                {
                    "nip": nip_for(offset + i),
                    "nip_kind": "pns",
                    "name": f"Peserta {offset + i}",
                    "email": f"p{offset + i}@example.go.id",
                    "instansi_id": instansi,
                    "unit": f"Unit {i % 20}",
                    "password_hash": pw,
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        wanted = {nip_for(offset + i) for i in range(n)}
        rows = conn.execute(select(Learner.id, Learner.nip).where(Learner.instansi_id == instansi)).all()
        by_nip = {nip: lid for lid, nip in rows if nip in wanted}
        ids = [by_nip[nip_for(offset + i)] for i in range(n)]
        conn.execute(
            insert(Token),
            [
                {
                    "token_hash": token_digest(t),
                    "kind": "api",
                    "learner_id": lid,
                    "staff_id": None,
                    "created_at": now,
                    "expires_at": now + dt.timedelta(days=30),
                }
                for t, lid in zip(tokens, ids, strict=True)
            ],
        )
    eng.dispose()
    return tokens
