"""Learner widgets (ipywidgets). Each notebook cell builds one with a single call, e.g. ``quiz("m01")``.

Every widget exposes its controls as attributes (``quiz(...).start_button``,
``.checks``, ``.submit_button`` ...) so tests and trainers can drive it from Python.
Content comes only from the learner bundle (``netralitas.widgets.common.course()``,
``$NETRALITAS_LEARNER_BUNDLE``) and the quiz server's API; no widget reads ``content/``.
"""

from __future__ import annotations

from netralitas.widgets.cases import CaseExplorer
from netralitas.widgets.checker import CekTindakan
from netralitas.widgets.connection import ConnectionWidget
from netralitas.widgets.election_calendar import ElectionCalendar
from netralitas.widgets.navigation import ModuleList, ModuleNav
from netralitas.widgets.progress import ProgressWidget
from netralitas.widgets.quiz import QuizWidget
from netralitas.widgets.sanctions import SanctionExplorer

__all__ = [
    "CaseExplorer",
    "CekTindakan",
    "ConnectionWidget",
    "ElectionCalendar",
    "ModuleList",
    "ModuleNav",
    "ProgressWidget",
    "QuizWidget",
    "SanctionExplorer",
    "case_explorer",
    "cek_tindakan",
    "connection",
    "election_calendar",
    "module_list",
    "module_nav",
    "progress",
    "quiz",
    "sanction_explorer",
]


def connection(show_server: bool = False) -> ConnectionWidget:
    return ConnectionWidget(show_server=show_server)


def case_explorer(module_id: str) -> CaseExplorer:
    return CaseExplorer(module_id)


def cek_tindakan() -> CekTindakan:
    return CekTindakan()


def sanction_explorer() -> SanctionExplorer:
    return SanctionExplorer()


def election_calendar() -> ElectionCalendar:
    return ElectionCalendar()


def quiz(quiz_id: str) -> QuizWidget:
    return QuizWidget(quiz_id)


def progress() -> ProgressWidget:
    return ProgressWidget()


def module_list() -> ModuleList:
    return ModuleList()


def module_nav(module_id: str) -> ModuleNav:
    return ModuleNav(module_id)
