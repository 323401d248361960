"""The quiz server's named domain errors, one per failure a caller may want to tell apart.

Each subclasses a kind from :mod:`netralitas.errors` (which decides its HTTP status in the web layer)
and carries its stable code and default Indonesian message. One-off failures raise the kind directly
with their own code, e.g. ``InvalidInput("...", code="invalid_period")``.
"""

from __future__ import annotations

from netralitas.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated

# Learners and accounts


class LearnerExists(Conflict):
    code = "learner_exists"
    message = "NIP ini sudah terdaftar. Silakan masuk."


class UnknownInstansi(InvalidInput):
    code = "unknown_instansi"
    message = "Instansi tidak dikenal. Pilih dari daftar instansi."


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "NIP/nama pengguna atau kata sandi salah."


class LearnerNotFound(NotFound):
    code = "learner_not_found"
    message = "Peserta tidak ditemukan."


class RateLimited(TooManyRequests):
    code = "rate_limited"


# Quizzes and attempts


class QuizNotFound(NotFound):
    code = "quiz_not_found"
    message = "Kuis tidak ditemukan."


class AttemptNotFound(NotFound):
    code = "not_found"
    message = "Percobaan kuis tidak ditemukan."


class AttemptLimitReached(Conflict):
    code = "attempt_limit_reached"
    message = "Batas percobaan untuk kuis ini sudah habis."


class AttemptExpired(Conflict):
    code = "attempt_expired"
    message = "Waktu percobaan ini sudah habis. Mulai percobaan baru bila masih ada."


class AttemptAlreadySubmitted(Conflict):
    code = "attempt_already_submitted"
    message = "Percobaan ini sudah dikirim dengan jawaban lain."


class UnknownQuestion(InvalidInput):
    code = "unknown_question"


class InvalidChoice(InvalidInput):
    code = "invalid_choice"


class ServerBusy(TooManyRequests):
    code = "server_busy"
    message = "Server sedang melayani banyak peserta yang mulai bersamaan. Coba lagi sebentar lagi."


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    message = "Idempotency-Key ini sudah dipakai untuk permintaan lain. Buat kunci baru untuk permintaan baru."


# Workshops


class WorkshopNotFound(NotFound):
    code = "workshop_not_found"
    message = "Lokakarya tidak ditemukan."


class WorkshopClosed(Conflict):
    code = "workshop_closed"
    message = "Lokakarya ini sudah ditutup."


# Workshops: the live room (workshops area)


class StateChanged(Conflict):
    """A trainer action lost its compare-and-set on the room's version (a stale screen, a second tab)."""

    code = "state_changed"
    message = "Sesi sudah berubah sejak layar ini dimuat. Muat ulang, lalu coba lagi."


# Certificates


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    message = "Sertifikat tidak ditemukan."


class NoCertificate(NotFound):
    code = "no_certificate"
    message = "Anda belum memiliki sertifikat."


# Reports, roster, certificates, exercises and privacy (errors a page or the CLI may tell apart)


class CertificateRevoked(Conflict):
    code = "certificate_revoked"
    message = "Sertifikat ini telah dicabut dan tidak dapat diunduh."
