import re
import subprocess
import sys

import pytest
import yaml

from netralitas.content.loader import check_content, load_course
from netralitas.errors import ContentError
from tests.conftest import MINI

QUESTIONS = "modules/01-contoh/questions.yaml"


def edit_yaml(root, rel, change):
    path = root / rel
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def only_problem(root):
    loaded, problems = check_content(root)
    assert loaded is None
    assert len(problems) == 1, [str(p) for p in problems]
    line = str(problems[0])
    assert "\n" not in line
    return problems[0], line


def test_mini_course_loads_into_typed_objects():
    course = load_course(MINI)
    assert course.course.quiz.pass_percent == 80
    assert course.rules["pp94-2021-p5n2"].citation == "PP 94/2021 Pasal 5 huruf n angka 2"
    module = course.module("m01")
    assert len(module.questions.questions) == 12
    assert module.lesson.meta.title == "Modul contoh"


def test_missing_rule_id(mini_copy):
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][2].__setitem__("rules", ["uu99-2099-p1"]))
    problem, line = only_problem(mini_copy)
    assert problem.code == "unknown_rule"
    assert problem.item == "m01-q003"
    assert line.startswith("content/modules/01-contoh/questions.yaml: m01-q003: [unknown_rule]")
    assert "uu99-2099-p1" in line


def test_two_correct_answers_on_single_choice(mini_copy):
    def two(d):
        q = next(q for q in d["questions"] if q["type"] == "single")
        for c in q["choices"]:
            c["correct"] = c["id"] in {"a", "b"}

    edit_yaml(mini_copy, QUESTIONS, two)
    problem, line = only_problem(mini_copy)
    assert (problem.code, problem.item) == ("correct_count", "m01-q004")
    assert "tepat 1" in line and "ada 2" in line


def test_multiple_choice_with_everything_correct(mini_copy):
    def all_correct(d):
        q = next(q for q in d["questions"] if q["type"] == "multiple")
        for c in q["choices"]:
            c["correct"] = True

    edit_yaml(mini_copy, QUESTIONS, all_correct)
    problem, _ = only_problem(mini_copy)
    assert problem.code == "correct_count"


def test_bad_yaml(mini_copy):
    path = mini_copy / QUESTIONS
    path.write_text(path.read_text() + "\n  - id: [unclosed\n")
    problem, line = only_problem(mini_copy)
    assert problem.code == "bad_yaml"
    assert re.search(r"baris \d+", line)


def test_wrong_schema_version(mini_copy):
    edit_yaml(mini_copy, "regulations.yaml", lambda d: d.__setitem__("schema_version", 2))
    problem, line = only_problem(mini_copy)
    assert problem.code == "wrong_schema_version"
    assert line.startswith("content/regulations.yaml: -: [wrong_schema_version]")


def test_missing_explanation(mini_copy):
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][5].pop("explanation"))
    problem, _ = only_problem(mini_copy)
    assert (problem.code, problem.item) == ("missing_explanation", "m01-q006")


def test_duplicate_ids(mini_copy):
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][1].__setitem__("id", "m01-q001"))
    problem, _ = only_problem(mini_copy)
    assert (problem.code, problem.item) == ("duplicate_id", "m01-q001")


def test_graded_question_on_unverified_rule_only(mini_copy):
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][0].__setitem__("rules", ["pp94-2021-p5n1"]))
    problem, _ = only_problem(mini_copy)
    assert (problem.code, problem.item) == ("unverified_basis", "m01-q001")


def test_ungraded_question_may_rest_on_unverified_rule(mini_copy):
    def ungraded(d):
        d["questions"][0]["rules"] = ["pp94-2021-p5n1"]
        d["questions"][0]["graded"] = False

    edit_yaml(mini_copy, QUESTIONS, ungraded)
    assert check_content(mini_copy)[1] == []


def test_violation_case_without_rules(mini_copy):
    edit_yaml(mini_copy, "modules/01-contoh/cases.yaml", lambda d: d["cases"][0].__setitem__("rules", []))
    problem, _ = only_problem(mini_copy)
    assert (problem.code, problem.item) == ("invalid_field", "m01-k01")


def test_load_course_raises_with_every_problem(mini_copy):
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][2].__setitem__("rules", ["nope"]))
    with pytest.raises(ContentError) as err:
        load_course(mini_copy)
    assert len(err.value.problems) == 1


def test_cli_exit_status_and_one_line_per_problem(mini_copy):
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][2].__setitem__("rules", ["nope-1"]))
    edit_yaml(mini_copy, QUESTIONS, lambda d: d["questions"][3].__setitem__("rules", ["nope-2"]))
    run = subprocess.run(
        [sys.executable, "-m", "netralitas", "content", "check", str(mini_copy)], capture_output=True, text=True
    )
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all("[unknown_rule]" in ln for ln in lines)
    ok = subprocess.run(
        [sys.executable, "-m", "netralitas", "content", "check", str(MINI)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "Konten valid" in ok.stdout
