"""nbgrader course root for the Netralitas ASN exercises.

Source notebooks in source/ are generated from content/ by `netralitas grade build`;
`nbgrader generate_assignment <name>` (or `netralitas grade release`) writes release/.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

ROOT = Path(__file__).resolve().parent
c.CourseDirectory.course_id = "netralitas-asn"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"

# Friendly stubs in the released notebooks (learners are not programmers).
c.ClearSolutions.code_stub = {"python": '    # Isi di sini, contoh:  "m01-s1": "etik",\n'}
c.ClearSolutions.text_stub = "TULIS JAWABAN ANDA DI SINI"

# Learner code runs in its own kernel process with a time limit (see docs/grading.md).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True
