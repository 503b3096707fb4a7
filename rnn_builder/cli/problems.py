"""How the CLI prints a graph's problems: one line each, the same for every command.

``validate`` prints them, and so does every command that refuses a graph it cannot run (the
training commands), so that a newcomer reads one wording for one mistake wherever they meet it.
"""

from __future__ import annotations

from collections.abc import Iterable

from rnn_builder.graph.validation import Problem

EXIT_PROBLEMS = 1  # the exit status of a command refused because of the graph's problems


def problem_line(file: str, problem: Problem) -> str:
    """``FILE: severity (node.port): message [code]``."""
    where = ""
    if problem.node:
        where = f" ({problem.node}" + (f".{problem.port}" if problem.port else "") + ")"
    return f"{file}: {problem.severity}{where}: {problem.message} [{problem.code}]"


def problem_lines(file: str, problems: Iterable[Problem]) -> list[str]:
    return [problem_line(file, problem) for problem in problems]


def project_problems(project, base) -> list[Problem]:
    """The graph's problems, with the memory training the project needs against the machine's
    budget (``training.workload``), then (when the graph has none of its own) what does not fit
    between it and its data (``training.tasks.check_data``): what ``validate`` reports."""
    from rnn_builder.graph.validation import validate
    from rnn_builder.training.tasks import check_data
    from rnn_builder.training.workload import validate_for

    report = validate(project.graph)
    if not report.ok:
        return list(report.problems)
    check = check_data(project, base)
    problems = list(validate_for(project, base).problems)
    return problems + (list(check.problems) if check is not None else [])
