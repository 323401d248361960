"""JupyterHub for many learners, with nbgrader's formgrader as a hub service.

One machine: `jupyterhub -f deploy/jupyterhub_config.py` (needs `pip install jupyterhub` and a
configurable-http-proxy; see docs/deploy.md). On Kubernetes, Zero to JupyterHub takes the same
settings under `hub.extraConfig` in its Helm values.

Learners log in with their accounts on this machine (PAMAuthenticator) or, better, through your
agency's SSO (OAuthenticator / LTI). Each instansi gets its own nbgrader course (course id and
folder); the trainers of that instansi are the formgrader service's users.
"""

import os

c = get_config()  # noqa: F821 - provided by JupyterHub

INSTANSI = os.environ.get("NETRALITAS_INSTANSI", "kab-bengkalis")
COURSE_ID = f"netralitas-{INSTANSI}"
COURSE_ROOT = os.environ.get("NETRALITAS_COURSE_ROOT", f"/srv/nbgrader/{COURSE_ID}")
QUIZ_SERVER = os.environ.get("NETRALITAS_SERVER", "https://kuis.example.go.id")
TRAINERS = set(filter(None, os.environ.get("NETRALITAS_TRAINERS", "pelatih1").split(",")))
# The learner bundle (no question bank, keys or answers), built by the admin with
# `netralitas build learner-bundle --out /srv/netralitas/bundle` and readable by every learner.
LEARNER_BUNDLE = os.environ.get("NETRALITAS_LEARNER_BUNDLE", "/srv/netralitas/bundle")

c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"admin"}

# Every learner's server starts in the kit's notebooks and knows the quiz server's address. Each
# learner is an OS user of its own: keep them out of the quiz server's group; its instance folder is
# 0700 (docs/deploy.md, "File modes"), so no learner kernel can read the database or the keys.
c.Spawner.default_url = "/lab/tree/netralitas"
c.Spawner.environment = {"NETRALITAS_SERVER": QUIZ_SERVER, "NETRALITAS_LEARNER_BUNDLE": LEARNER_BUNDLE}
c.Spawner.mem_limit = "512M"  # the kit's widgets need little; many learners share a node
c.Spawner.cpu_limit = 0.5

# nbgrader's formgrader, run by the hub as a service under the grader account of this instansi.
c.JupyterHub.services = [
    {
        "name": COURSE_ID,
        "url": "http://127.0.0.1:9999",
        "command": [
            "jupyterhub-singleuser",
            f"--ServerApp.root_dir={COURSE_ROOT}",
            "--ServerApp.port=9999",
        ],
        "user": f"grader-{INSTANSI}",
        "cwd": COURSE_ROOT,
        "environment": {"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:9999"},
    }
]

# Trainers may open the formgrader service; learners may not.
c.JupyterHub.load_groups = {f"formgrade-{COURSE_ID}": {"users": sorted(TRAINERS)}}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrader-{COURSE_ID}",
        "groups": [f"formgrade-{COURSE_ID}"],
        "scopes": [f"access:services!service={COURSE_ID}", "list:services", f"read:services!service={COURSE_ID}"],
    },
    {"name": "server", "scopes": ["inherit"]},
]
