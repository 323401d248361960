"""`netralitas certify`: a thin trigger of the quiz server's own certification rule.

The rule of course.yaml (``certification.track``) runs on the server over the server's records: its
quiz results and the exercise scores ``netralitas grade sync`` pushed in. The server certifies by
itself when a quiz submit or a score push completes the rule; this asks it to apply the rule now to
the given learners (the gradebook's students by default) and reports, per NIP, who is certified and
what is still missing. Nothing is decided here (docs/certificates.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from grading.server import StaffClient

RUN_PATH = "/api/v1/certification/run"
BATCH = 500  # the server's limit per request

_LINES = {
    "certified": "{nip}: sertifikat {certificate_code} diterbitkan",
    "already_certified": "{nip}: sudah bersertifikat ({certificate_code})",
    "eligible": "{nip}: memenuhi syarat",
    "not_met": "{nip}: belum memenuhi syarat (belum lulus: {missing})",
    "revoked": "{nip}: sertifikat dicabut; penerbitan ulang hanya oleh admin dengan alasan tertulis",
    "expired": "{nip}: sertifikat kedaluwarsa ({certificate_code}); sertifikat baru diterbitkan oleh admin",
    "unknown_learner": "{nip}: tidak terdaftar di server kuis",
}
MET = {"certified", "already_certified", "eligible"}


def _batches(nips: Iterable[str]) -> Iterator[list[str]]:
    it = iter(dict.fromkeys(nips))
    while batch := list(islice(it, BATCH)):
        yield batch


def run(client: StaffClient, nips: Iterable[str], *, dry_run: bool = False) -> list[dict]:
    """Ask the server to apply its rule to ``nips``; one result per NIP, as the server answered."""
    out: list[dict] = []
    for batch in _batches(nips):
        out += client.post_json(RUN_PATH, {"nips": batch, "dry_run": dry_run})["results"]
    return out


def line(result: dict) -> str:
    return _LINES[result["status"]].format(**{**result, "missing": ", ".join(result.get("missing") or [])})


def summary(results: list[dict]) -> str:
    met = sum(r["status"] in MET for r in results)
    issued = sum(r["status"] == "certified" for r in results)
    return f"{met} dari {len(results)} peserta memenuhi syarat sertifikat ({issued} diterbitkan sekarang)."
