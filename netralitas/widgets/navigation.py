"""Links between the course's notebooks that work wherever the page is served.

JupyterLab and Voila's folder mode (``voila notebooks/``, pages under ``/voila/render/``) serve every
notebook of the folder, so a relative link to the next module opens it. Voila's single-notebook mode
(``voila notebooks/01-....ipynb``) serves one notebook and answers 403 to any other: there the
next module is named in plain text instead of linked, so a learner never clicks into an error page.
"""

from __future__ import annotations

import os

import ipywidgets as w

from netralitas.content.bundle import LearnerCourse, LearnerModule
from netralitas.widgets.common import course, esc

START = "00-mulai"
SINGLE_PAGE_NOTE = (
    "Halaman ini hanya memuat satu modul. Untuk membuka modul lain, mintalah alamat kursus lengkap kepada pelatih."
)


ENV_VOILA_MODE = "NETRALITAS_VOILA_MODE"  # "folder" or "single", set by netralitas.voila_app


def serves_folder(env: dict[str, str] | None = None) -> bool:
    """True unless this kernel runs a Voila page in single-notebook mode (where other notebooks answer 403).

    ``$NETRALITAS_VOILA_MODE`` when the course launcher set it (a pre-started kernel has no request yet),
    else the page address Voila gives the kernel: folder mode serves pages under ``/voila/render/``.
    """
    env = dict(os.environ) if env is None else env
    if env.get(ENV_VOILA_MODE) in ("folder", "single"):
        return env[ENV_VOILA_MODE] == "folder"
    in_voila = env.get("SERVER_SOFTWARE", "").startswith("voila/") or any(k.startswith("VOILA_") for k in env)
    return not in_voila or "/voila/render/" in env.get("SCRIPT_NAME", "")


def _label(loaded: LearnerCourse, module: LearnerModule) -> str:
    return f"Modul {loaded.modules.index(module) + 1}: {module.ref.title}"


def _link(target: str, text: str, linked: bool) -> str:
    return f'<a href="{esc(target)}.ipynb">{esc(text)}</a>' if linked else f"<b>{esc(text)}</b>"


def module_list_html(loaded: LearnerCourse, linked: bool) -> str:
    items = "".join(f"<li>{_link(m.ref.dir, _label(loaded, m), linked)}</li>" for m in loaded.modules)
    tail = "" if linked else f"<p>{esc(SINGLE_PAGE_NOTE)}</p>"
    return f"<p>Kerjakan berurutan:</p><ol>{items}</ol>{tail}"


def module_nav_html(loaded: LearnerCourse, module_id: str, linked: bool) -> str:
    modules = loaded.modules
    n = modules.index(loaded.module(module_id))
    parts = []
    if n + 1 < len(modules):
        nxt = modules[n + 1]
        parts.append(f"Lanjut ke {_link(nxt.ref.dir, _label(loaded, nxt), linked)}")
    else:
        parts.append("Ini modul terakhir.")
    if linked:
        parts.append(_link(START, "Kembali ke halaman awal", True))
        return f"<p>{' · '.join(parts)}</p>"
    return f"<p>{parts[0]}</p><p>{esc(SINGLE_PAGE_NOTE)}</p>"


def _block(html: str) -> str:
    # An HTML widget's line height is a control's (28 px): too loose for a paragraph that wraps on a phone.
    return f'<div style="line-height:1.5">{html}</div>'


class ModuleList(w.HTML):
    """The start page's list of modules: links where the folder is served, names otherwise."""

    def __init__(self, loaded: LearnerCourse | None = None, *, linked: bool | None = None) -> None:
        linked = serves_folder() if linked is None else linked
        super().__init__(_block(module_list_html(loaded or course(), linked)))
        self.add_class("netralitas-nav")


class ModuleNav(w.HTML):
    """The foot of a module page: the next module and the way back to the start page."""

    def __init__(self, module_id: str, loaded: LearnerCourse | None = None, *, linked: bool | None = None) -> None:
        linked = serves_folder() if linked is None else linked
        super().__init__(_block(module_nav_html(loaded or course(), module_id, linked)))
        self.add_class("netralitas-nav")
