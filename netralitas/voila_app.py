"""Serve the learner notebooks with Voila, set up for many visitors on slow connections.

``python -m netralitas.voila_app notebooks/`` is ``voila notebooks/`` with the settings a learner
needs (any Voila option given on the command line still applies, and wins):

- every kernel keeps the learner's token in its own memory (``NETRALITAS_TOKEN_STORE=memory``): all
  Voila kernels run as one OS user with one config folder, so a token file would log the next
  visitor in as the previous one;
- responses are gzip-compressed: a module page is about 5.3 MB of Voila's JavaScript, fonts and
  styles, about 1.5 MB compressed. ``--Voila.tornado_settings`` cannot turn this on: Voila applies it
  after tornado has chosen its output transforms;
- only the widget extensions load (``extension_allowlist``): the nbgrader and Notebook extensions
  installed beside JupyterLab do nothing on a module page but weigh on it;
- one kernel per notebook is started and run ahead (``preheat_kernel``), so a visitor does not wait
  for a kernel to start and run the whole notebook; each visitor still gets a kernel of their own
  (used once, then replaced). ``--preheat_kernel=False`` saves the memory (about 100 MB per notebook);
- the widgets are told whether the folder or a single notebook is served
  (``NETRALITAS_VOILA_MODE``), so "Lanjut ke" links only where the next notebook can be opened.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from netralitas.client import ENV_TOKEN_STORE
from netralitas.widgets.navigation import ENV_VOILA_MODE

WIDGET_EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8")
# Option -> its values; an option given on the command line replaces the default here.
DEFAULTS: dict[str, tuple[str, ...]] = {
    "--VoilaConfiguration.extension_allowlist": WIDGET_EXTENSIONS,
    "--preheat_kernel": ("True",),
    "--VoilaKernelManager.preheat_denylist": ("hr-*",),  # the HR notebook is not a learner page
}


def mode(args: list[str]) -> str:
    """``single`` when a notebook file is named on the command line, else ``folder``."""
    return "single" if any(a.endswith(".ipynb") and not a.startswith("-") for a in args) else "folder"


def main(argv: list[str] | None = None) -> None:
    from voila.app import Voila  # imported here: the core library does not need Voila to load

    class CourseVoila(Voila):
        def init_settings(self) -> dict[str, Any]:
            settings = super().init_settings()
            settings["compress_response"] = True  # read by tornado.web.Application.__init__ only
            return settings

    args = sys.argv[1:] if argv is None else argv
    os.environ[ENV_TOKEN_STORE] = "memory"  # the kernels inherit this process's environment
    os.environ[ENV_VOILA_MODE] = mode(args)
    CourseVoila.launch_instance(argv=[*default_args(args), *args])


def default_args(args: list[str]) -> list[str]:
    given = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    return [f"{name}={value}" for name, values in DEFAULTS.items() if name not in given for value in values]


if __name__ == "__main__":
    main()
