"""The deployment examples load and say what docs/deploy.md promises."""

from traitlets.config import Config

from tests.conftest import ROOT


def test_jupyterhub_config_loads_with_formgrader_service(monkeypatch):
    monkeypatch.setenv("NETRALITAS_INSTANSI", "kab-bengkalis")
    monkeypatch.setenv("NETRALITAS_TRAINERS", "pelatih1,pelatih2")
    c = Config()
    code = (ROOT / "deploy" / "jupyterhub_config.py").read_text()
    exec(compile(code, "jupyterhub_config.py", "exec"), {"get_config": lambda: c})  # noqa: S102
    services = c.JupyterHub.services
    assert [s["name"] for s in services] == ["netralitas-kab-bengkalis"]
    assert c.JupyterHub.load_groups["formgrade-netralitas-kab-bengkalis"]["users"] == ["pelatih1", "pelatih2"]
    role = c.JupyterHub.load_roles[0]
    assert "access:services!service=netralitas-kab-bengkalis" in role["scopes"]
    assert c.Spawner.environment["NETRALITAS_SERVER"].startswith("https://")


def test_systemd_unit_runs_the_documented_command():
    unit = (ROOT / "deploy" / "netralitas.service").read_text()
    assert "ExecStart=/opt/netralitas/.venv/bin/netralitas serve" in unit
