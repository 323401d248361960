"""The project's own promises about packaging, schemas, CLI help and import boundaries."""

import re
import subprocess
import sys
import tomllib

import click
import yaml

from netralitas.cli import main
from tests.conftest import ROOT


def _name(spec: str) -> str:
    return re.split(r"[<>=!\[ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(d) for d in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert listed == wanted


def test_published_json_schemas_are_current():
    run = subprocess.run(
        [sys.executable, "-m", "netralitas", "content", "schema", "--check", str(ROOT / "content")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def _walk(cmd: click.Command, ctx: click.Context, path: str):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            yield from _walk(sub, click.Context(sub, parent=ctx, info_name=name), f"{path} {name}")


def test_every_command_has_help_text():
    ctx = click.Context(main, info_name="netralitas")
    commands = dict(_walk(main, ctx, "netralitas"))
    for expected in ("netralitas content check", "netralitas serve", "netralitas up", "netralitas users add"):
        assert expected in commands
    missing = [path for path, cmd in commands.items() if not (cmd.help or "").strip()]
    assert missing == []


def test_core_library_imports_neither_flask_nor_nbgrader():
    code = (
        "import sys, netralitas, netralitas.cli, netralitas.content.loader, netralitas.nip, netralitas.scoring;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('flask','nbgrader','quiz_server','grading')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_quiz_server_imports_nothing_from_grading():
    offenders = [
        p for p in (ROOT / "quiz_server").rglob("*.py") if re.search(r"^\s*(from|import) grading", p.read_text(), re.M)
    ]
    assert offenders == []


def test_reading_a_notebook_compiles_no_iri_grammars():
    # rfc3987-syntax (pulled by jsonschema >= 4.25) builds ~35 Earley parsers on import, about a second
    # for every grading command and Jupyter process; pyproject.toml keeps jsonschema below 4.25.
    code = "import sys, nbformat; print(sorted(m for m in sys.modules if m.startswith('rfc3987')))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
