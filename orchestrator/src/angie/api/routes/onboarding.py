"""``/api/onboarding``: the setup interview for any front end (the web UI asks it after the
first account). The questions, their checks and the USER_PROMPTS documents the answers become
are :mod:`angie.onboarding`'s, the same ones ``angie setup`` asks on a terminal, so both write
the same documents. Topics may be answered a few at a time: the interview can be left and
taken up again where it stopped."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from angie import onboarding
from angie.agents.rules import derive_from, replace_setup_rules
from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.schemas import Body, Out
from angie.db.models import User
from angie.errors import Invalid
from angie.prompts import PromptError
from angie.prompts import versions as prompt_versions
from angie.services import Services

__all__ = ("router",)

router = APIRouter(prefix="/onboarding", tags=["onboarding"])

Value = str | list[str]


class QuestionOut(Out):
    key: str
    ask: str
    kind: Literal["text", "list", "timezone"]
    optional: bool
    choices: list[str] = Field(description="For a list: the only items allowed (empty: any).")
    limit: int = Field(description="The longest answer (or list item) in characters.")
    default: Value = Field(description="The earlier answer, else the built-in one.")


class TopicOut(Out):
    name: str = Field(description="The topic, also the name of its USER_PROMPTS document.")
    title: str
    answered: bool = Field(description="True once this topic's answers were saved.")
    questions: list[QuestionOut]


class InterviewOut(Out):
    topics: list[TopicOut]
    complete: bool = Field(description="True once every topic was answered.")


class AnswersIn(Body):
    answers: dict[str, dict[str, Any]] = Field(
        min_length=1,
        description="Answers by topic then question key; a list answer is a list of text (or "
        "one text split by ;). A topic given is saved as its document; a question left out "
        "keeps its earlier answer, else its built-in default (a name has none).",
    )


async def _bodies(services: Services, user_id: int) -> dict[str, str]:
    await services.user_prompts.ensure_defaults(user_id)
    return {doc.name: doc.body for doc in await services.user_prompts.current(user_id)}


def _me(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "preferred_name": user.preferred_name,
        "timezone": user.timezone,
    }


async def _interview(services: Services, user: User) -> InterviewOut:
    bodies = await _bodies(services, user.id)
    current = onboarding.defaults(bodies, _me(user), None)
    topics = [
        TopicOut(
            name=topic.name,
            title=topic.title,
            answered=bool(onboarding.stored(bodies.get(topic.name, ""))),
            questions=[
                QuestionOut(
                    key=q.key,
                    ask=q.ask,
                    kind=q.kind,
                    optional=q.optional,
                    choices=list(q.choices),
                    limit=q.limit,
                    default=current[topic.name][q.key],
                )
                for q in topic.questions
            ],
        )
        for topic in onboarding.TOPICS
    ]
    return InterviewOut(topics=topics, complete=all(t.answered for t in topics))


def _merged(given: onboarding.Answers, before: onboarding.Answers) -> onboarding.Answers:
    """Each given topic complete: its answers over the earlier ones, then the built-in
    defaults; a required question with neither (a name) is an error naming it."""
    found: onboarding.Answers = {}
    for topic in onboarding.TOPICS:
        if topic.name not in given:
            continue
        values: dict[str, Value] = {}
        for question in topic.questions:
            for source in (given[topic.name], before.get(topic.name, {})):
                if question.key in source:
                    values[question.key] = source[question.key]
                    break
            else:
                # The built-in default, as the interview offers it; none for a name.
                if not question.optional and not question.default:
                    raise Invalid(f"{topic.name}.{question.key} needs an answer")
                values[question.key] = question.default
        found[topic.name] = values
    return found


@router.get("", operation_id="get_onboarding")
async def get_onboarding(user: CurrentUser, services: ServicesDep) -> InterviewOut:
    """The interview: each topic's questions with their defaults, and which were answered."""
    return await _interview(services, user)


@router.post("", operation_id="answer_onboarding", responses={422: {}})
async def answer_onboarding(
    body: AnswersIn, user: CurrentUser, services: ServicesDep, session: SessionDep
) -> InterviewOut:
    """Save the answers of one or more topics as their documents, as ``angie setup`` does;
    one bad answer and nothing is saved. Your name, preferred name and timezone follow."""
    try:
        if "account" in body.answers:
            raise onboarding.AnswerError("answers: account is not part of the interview")
        parsed, _ = onboarding.parse(body.answers, "answers")
        # Only the topics given are saved (parse gives every topic, empty when left out).
        given = {name: values for name, values in parsed.items() if name in body.answers}
        bodies = await _bodies(services, user.id)
        answers = _merged(given, onboarding.earlier(bodies, _me(user)))
    except onboarding.AnswerError as err:
        raise Invalid(str(err)) from None
    texts: dict[str, str] = {}
    for topic in onboarding.TOPICS:
        if topic.name in answers:
            document = onboarding.document(topic, answers[topic.name])
            try:
                texts[topic.name] = prompt_versions.prepare_body(
                    services.library, document, name=f"user prompt `{topic.name}`"
                )
            except PromptError as err:
                raise Invalid(str(err)) from None
    for name, text in texts.items():
        await services.user_prompts.save(user.id, name, text, by=user.id)
    if "autonomy" in texts:
        derived = derive_from(onboarding.stored(texts["autonomy"]))
        async with services.database.session() as rules_session:
            await replace_setup_rules(rules_session, user.id, derived.rules)
    if "profile" in answers:
        profile = answers["profile"]
        user.display_name = str(profile["name"])
        user.preferred_name = str(profile["address_as"]) or None
    if "schedule" in answers:
        user.timezone = str(answers["schedule"]["timezone"])
    await session.flush()
    return await _interview(services, user)
