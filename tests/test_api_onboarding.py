"""The setup interview through the API: the same questions as ``angie setup``, the same
USER_PROMPTS documents, a topic at a time (so it can be left and resumed), each person's own,
and bad answers refused with a message naming the question while nothing is saved."""

from __future__ import annotations

from typing import Any

from api_support import Account, ApiHarness, error_message, json_body

from angie import onboarding

URL = "/api/onboarding"

ALL = {
    "profile": {"name": "Sam Doe", "address_as": "Sam", "about": "Cyclist."},
    "style": {"tone": "brief", "language": "English"},
    "schedule": {
        "timezone": "Europe/Paris",
        "working_hours": "weekdays 8 to 16",
        "quiet_hours": "-",
    },
    "priorities": {"items": "the garden; my thesis"},
    "people": {"people": ["Alex (partner)"], "places": []},
    "autonomy": {"without_asking": ["look things up"], "always_ask": ["spending money"]},
    "contact": {"channels": ["web", "email"], "details": "-", "urgent": "call me"},
}


async def body_of(api: ApiHarness, who: Account, name: str) -> str:
    text: str = json_body(await api.client.get(f"/api/prompts/{name}", headers=who.headers))["body"]
    return text


async def answer(api: ApiHarness, who: Account, answers: dict[str, Any]) -> Any:
    return await api.client.post(URL, json={"answers": answers}, headers=who.headers)


async def test_the_questions_are_the_cli_ones_with_their_defaults(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    found = json_body(await api.client.get(URL, headers=sam.headers))

    assert [t["name"] for t in found["topics"]] == [t.name for t in onboarding.TOPICS]
    assert found["complete"] is False
    assert not any(t["answered"] for t in found["topics"])
    for topic, shown in zip(onboarding.TOPICS, found["topics"], strict=True):
        assert [q["ask"] for q in shown["questions"]] == [q.ask for q in topic.questions]
    style = found["topics"][1]["questions"]
    assert style[0]["default"] == "warm and brief"
    contact = found["topics"][-1]["questions"][0]
    assert contact["kind"] == "list"
    assert contact["choices"] == list(onboarding.CHANNELS)


async def test_answers_become_the_same_documents_as_angie_setup(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    found = json_body(await answer(api, sam, ALL))
    me = json_body(await api.client.get("/api/me", headers=sam.headers))

    assert found["complete"] is True
    given, _ = onboarding.parse(ALL, "answers")
    for topic in onboarding.TOPICS:
        assert await body_of(api, sam, topic.name) == onboarding.document(topic, given[topic.name])
    assert (me["display_name"], me["preferred_name"], me["timezone"]) == (
        "Sam Doe",
        "Sam",
        "Europe/Paris",
    )
    rules = json_body(await api.client.get("/api/me/approval-rules", headers=sam.headers))
    assert rules, "the autonomy answers make the person's approval rules"


async def test_a_topic_at_a_time_resumes_where_it_stopped(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    first = json_body(await answer(api, sam, {"style": {"tone": "dry"}}))
    again = json_body(await api.client.get(URL, headers=sam.headers))

    answered = {t["name"] for t in first["topics"] if t["answered"]}
    assert answered == {"style"}
    assert again == first
    style = next(t for t in again["topics"] if t["name"] == "style")
    # The answer given, and the default kept for the one left out.
    assert [q["default"] for q in style["questions"]] == ["dry", "the language of each message"]
    assert "Tone: dry." in await body_of(api, sam, "style")
    assert "angie-setup" not in await body_of(api, sam, "profile")


async def test_each_person_has_their_own_interview(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    kim = await api.signup("kim")

    await answer(api, sam, ALL)
    kims = json_body(await api.client.get(URL, headers=kim.headers))

    assert kims["complete"] is False
    assert "Cyclist" not in await body_of(api, kim, "profile")
    assert (await api.client.get(URL)).status_code == 401


async def test_a_bad_answer_names_the_question_and_saves_nothing(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await body_of(api, sam, "style")
    cases: dict[str, dict[str, Any]] = {
        "Mars/Olympus": {
            "style": {"tone": "dry"},
            "schedule": {"timezone": "Mars/Olympus", "working_hours": "x"},
        },
        "contact.channels": {"style": {"tone": "dry"}, "contact": {"channels": ["pigeon"]}},
        "unknown key": {"hobbies": {"x": "y"}},
        "profile.shoe_size": {"profile": {"shoe_size": "42"}},
        "profile.name needs an answer": {"profile": {"name": "  "}},
        "profile.address_as needs an answer": {"profile": {"about": "hi"}},
        "account": {"account": {"email": "a@b.c", "password": "x"}},
        "should be text": {"style": {"tone": ["a"]}},
    }

    for expected, answers in cases.items():
        message = error_message(await answer(api, sam, answers), 422)
        assert expected in message, (expected, message)
    empty = await api.client.post(URL, json={"answers": {}}, headers=sam.headers)

    assert empty.status_code == 422
    assert await body_of(api, sam, "style") == before
