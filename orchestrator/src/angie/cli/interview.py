"""The setup interview on a terminal: each onboarding question asked in turn, with the earlier
answer as its default, until the answer fits."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from angie.onboarding import TOPICS, AnswerError, Answers, Question, Value

__all__ = ("ask", "ask_all")


def ask(question: Question, default: Value, console: Console) -> Value:
    """One answer, asked again until it fits."""
    shown = question.shown(default)
    while True:
        if shown:
            raw = Prompt.ask(question.ask, default=shown, console=console)
        else:
            raw = Prompt.ask(question.ask, console=console)
        try:
            return question.parse(raw, question.key)
        except AnswerError as err:
            console.print(f"[red]{escape(str(err))}[/]")


def ask_all(current: Answers, console: Console) -> Answers:
    """Every topic's answers; ``current`` holds each question's default."""
    answers: Answers = {}
    for topic in TOPICS:
        console.print()
        console.rule(f"[bold]{topic.title}[/]", align="left")
        answers[topic.name] = {
            q.key: ask(q, current[topic.name][q.key], console) for q in topic.questions
        }
    return answers
