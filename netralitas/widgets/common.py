"""What every widget shares: the learner bundle, the client, small HTML helpers and safe button handlers."""

from __future__ import annotations

import functools
import html
import logging
import os
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ipywidgets as w

from netralitas import labels
from netralitas.client import ClientError, QuizClient
from netralitas.content.bundle import LearnerCourse, load_learner_bundle
from netralitas.content.models import Confidence, Rule

log = logging.getLogger("netralitas.widgets")


def full() -> w.Layout:
    """A fresh full-width layout. Never share one Layout: hiding one widget would hide every sharer."""
    return w.Layout(width="calc(100% - 8px)", max_width="46rem")


# The bundle the committed notebooks read (written by `netralitas build notebooks`).
DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "notebooks" / "bundle"


def bundle_path() -> Path:
    """``$NETRALITAS_LEARNER_BUNDLE``, else the bundle beside the kit's notebooks (notebooks/bundle/)."""
    return Path(os.environ.get("NETRALITAS_LEARNER_BUNDLE") or DEFAULT_BUNDLE)


@functools.cache
def _bundle_at(path: str) -> LearnerCourse:
    return load_learner_bundle(path)


def course() -> LearnerCourse:
    """The learner bundle (lessons, cases, rules; no question bank, no answers), loaded once per kernel.

    Widgets never read ``content/``: :func:`load_learner_bundle` refuses a full content folder,
    so a kernel pointed at one stops with an Indonesian message instead of holding the keys.
    """
    return _bundle_at(str(bundle_path()))


def client() -> QuizClient:
    return QuizClient()


# Widgets of this kernel that show per-learner data, refreshed when the connection widget logs in or
# out. Weak references: a widget that is gone (cell run again) is not kept alive by this list.
_watchers: list[weakref.WeakMethod] = []


def watch_identity(refresh: Callable[[], Any]) -> None:
    _watchers.append(weakref.WeakMethod(refresh))


def identity_changed() -> None:
    for ref in list(_watchers):
        refresh = ref()
        if refresh is None:
            _watchers.remove(ref)
        else:
            refresh()


def esc(text: object) -> str:
    return html.escape(str(text))


def paragraphs(text: str) -> str:
    return "".join(f"<p>{esc(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


_TONES = {"info": "#0b5394", "ok": "#1b6e20", "warn": "#8a5300", "error": "#a61b1b"}


def note(text: str, tone: str = "info") -> str:
    color = _TONES[tone]
    return (
        f'<div role="status" style="border-left:4px solid {color};padding:.4em .8em;margin:.4em 0;'
        f'color:{color}">{esc(text)}</div>'
    )


def rule_item(rule: Rule) -> str:
    """One cited rule: citation, title and how sure the kit is. A rule's ``note`` is trainer-only
    (research caveats) and never reaches a learner."""
    sure = labels.CONFIDENCE[rule.confidence]
    warn = rule.confidence is Confidence.UNVERIFIED
    badge = f'<span style="color:{_TONES["warn" if warn else "info"]}">[{esc(sure)}]</span>'
    return f"<li><b>{esc(rule.citation)}</b> — {esc(rule.title)} {badge}</li>"


def rule_list(rules: Iterable[Rule]) -> str:
    items = "".join(rule_item(r) for r in rules)
    return f"<ul>{items}</ul>" if items else "<p>Tidak ada aturan yang dikutip.</p>"


def show(widget: w.Widget, visible: bool) -> None:
    widget.layout.display = "" if visible else "none"


def labelled(text: str, control: w.Widget) -> w.VBox:
    """A question above its control: long Indonesian labels fit a phone screen this way."""
    return w.VBox([w.HTML(f"<b>{esc(text)}</b>"), control])


def heading(text: str) -> w.HTML:
    return w.HTML(f"<h3>{esc(text)}</h3>")


def safe(message_attr: str = "message") -> Callable:
    """Wrap a handler so a learner sees a message, never a traceback.

    Client errors already carry an Indonesian message; anything else is logged
    for the trainer and shown as a short apology. The error is kept on
    ``last_error`` so tests and trainers can inspect it.
    """

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                self.last_error = None
                return fn(self, *args, **kwargs)
            except ClientError as exc:
                self.last_error = exc
                getattr(self, message_attr).value = note(exc.message, "error")
            except Exception as exc:
                self.last_error = exc
                log.exception("widget handler failed")
                getattr(self, message_attr).value = note(
                    "Terjadi kesalahan tak terduga. Muat ulang halaman ini; bila berulang, hubungi pelatih.", "error"
                )
            return None

        return inner

    return wrap
