"""The scorer and its store, called directly: samples of real-looking mail, lists, history."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from angie_mcp_spam.client import SpamClient
from angie_mcp_spam.domains import BRANDS, lookalike_of
from angie_mcp_spam.models import ConfirmedVerdict, MessageInput, Score, VerdictRecorded
from angie_mcp_spam.settings import SpamSettings
from angie_mcp_spam.testing import ATTACHMENT_MALWARE, NEWSLETTER, PERSONAL, PHISHING

from angie_mcp_core.errors import InvalidArgumentError, ServerToolError


def _one(client: SpamClient, raw: str) -> Score:
    [found] = client.score_messages([MessageInput(raw=raw)])
    return found


def _verdict(client: SpamClient, message_id: str, sender: str, verdict: str) -> VerdictRecorded:
    confirmed = ConfirmedVerdict.model_validate(
        {"message_id": message_id, "sender": sender, "verdict": verdict}
    )
    [recorded] = client.record_verdicts([confirmed])
    return recorded


def _codes(found: Score) -> set[str]:
    return {r.code for r in found.reasons}


# Scoring the samples ------------------------------------------------------------------------


def test_phishing_with_a_lookalike_domain_is_spam_with_its_reasons(client: SpamClient) -> None:
    found = _one(client, PHISHING)

    assert (found.verdict, found.score) == ("spam", 100)
    assert found.sender == "service@paypa1.com"
    assert {
        "lookalike_sender",
        "lookalike_link",
        "link_text_mismatch",
        "dmarc_fail",
        "spf_fail",
        "reply_to_mismatch",
        "display_name_brand",
        "credentials",
        "urgency",
    } <= _codes(found)
    lookalike = next(r for r in found.reasons if r.code == "lookalike_sender")
    assert "paypal.com" in lookalike.detail
    assert found.reasons[0].weight >= found.reasons[-1].weight


def test_newsletter_with_dkim_pass_and_list_unsubscribe_is_bulk_ham(client: SpamClient) -> None:
    found = _one(client, NEWSLETTER)

    assert found.verdict == "ham"
    assert found.bulk is True
    assert {"dkim_pass", "dmarc_pass", "spf_pass", "list_unsubscribe"} <= _codes(found)
    assert not _codes(found) & {"lookalike_link", "link_text_mismatch", "return_path_mismatch"}


def test_personal_mail_from_an_allowed_sender_scores_zero(client: SpamClient) -> None:
    client.allow(["rose.miller@gmail.com"], "Grandma")

    found = _one(client, PERSONAL)

    assert (found.score, found.verdict, found.bulk) == (0, "ham", False)
    assert [r.code for r in found.reasons] == ["allow_list"]


def test_personal_mail_from_an_unknown_sender_is_still_ham(client: SpamClient) -> None:
    found = _one(client, PERSONAL)

    assert found.verdict == "ham"
    assert found.subject == "Sunday lunch?"


def test_an_exe_posing_as_a_pdf_is_spam(client: SpamClient) -> None:
    found = _one(client, ATTACHMENT_MALWARE)

    assert found.verdict == "spam"
    assert "disguised_attachment" in _codes(found)
    assert "lookalike_sender" not in _codes(found)


def test_headers_and_text_score_like_the_raw_message(client: SpamClient) -> None:
    message = MessageInput(
        id="imap:4711",
        headers={
            "From": '"support@paypal.com" <help@secure-mail.example>',
            "Subject": "YOU HAVE WON A PRIZE!!!",
            "Authentication-Results": "mx.example.net; spf=softfail smtp.mailfrom=x; dkim=fail",
        },
        html='<a href="http://203.0.113.9/claim">www.paypal.com</a>',
        attachments=["prize.scr"],
    )

    [found] = client.score_messages([message])

    assert found.id == "imap:4711"
    assert found.verdict == "spam"
    assert {
        "display_name_spoof",
        "all_caps_subject",
        "money",
        "excess_punctuation",
        "ip_link",
        "link_text_mismatch",
        "risky_attachment",
        "spf_softfail",
        "dkim_fail",
    } <= _codes(found)


def test_punycode_sender_is_named_as_the_reader_sees_it(client: SpamClient) -> None:
    raw = "From: PayPal <service@xn--pypal-4ve.com>\nSubject: Receipt\n\nThanks.\n"

    found = _one(client, raw)

    punycode = next(r for r in found.reasons if r.code == "punycode_sender")
    assert "p\u0430ypal.com" in punycode.detail
    assert "lookalike_sender" in _codes(found)


@pytest.mark.parametrize(
    ("domain", "imitated"),
    [
        ("paypa1.com", "paypal.com"),
        ("paypall.com", "paypal.com"),
        ("rnicrosoft.com", "microsoft.com"),
        ("paypal-secure.com", "paypal.com"),
        ("www.paypal.com.account-verify.ru", "paypal.com"),
        ("mail.paypal.com", None),
        ("paypal.co.uk", None),
        ("apple-orchard.example", None),
        ("linked.com", None),
        ("morningbrew.com", None),
    ],
)
def test_lookalike_domains(domain: str, imitated: str | None) -> None:
    assert lookalike_of(domain, BRANDS) == imitated


def test_a_borrowed_display_name_of_a_known_sender_is_a_spoof(client: SpamClient) -> None:
    _verdict(client, "<m1@example.org>", "Alice Smith <alice@example.org>", "ham")
    raw = "From: Alice Smith <alice.smith.ceo@gmail.com>\nSubject: quick favour\n\nGift cards?\n"

    found = _one(client, raw)

    spoof = next(r for r in found.reasons if r.code == "display_name_spoof")
    assert "alice@example.org" in spoof.detail
    assert found.verdict in ("suspicious", "spam")


def test_a_domain_imitating_an_allowed_one_is_a_lookalike(client: SpamClient) -> None:
    client.allow(["@mybank.example"], "my bank")

    found = _one(client, "From: My Bank <alerts@mybanc.example>\nSubject: Statement\n\nHi\n")

    lookalike = next(r for r in found.reasons if r.code == "lookalike_sender")
    assert "imitates mybank.example" in lookalike.detail


def test_a_person_named_like_a_brand_is_not_a_brand_claim(client: SpamClient) -> None:
    _verdict(client, "<f1@miller.example>", "Rose Miller <rose@miller.example>", "ham")
    raw = "From: Chase Miller <chase.miller@gmail.com>\nSubject: Hi aunt Rose\n\nSee you!\n"

    found = _one(client, raw)

    assert found.verdict == "ham"
    assert not _codes(found) & {"display_name_brand", "display_name_spoof", "lookalike_sender"}


# Sender history -----------------------------------------------------------------------------


def test_verdicts_move_later_scores_of_the_sender(client: SpamClient) -> None:
    raw = (
        "From: Deals <offers@deals.example>\nSubject: Hello\nMessage-ID: <a@deals.example>\n\nHi\n"
    )
    before = _one(client, raw).score

    _verdict(client, "<a@deals.example>", "offers@deals.example", "spam")
    marked = _one(client, raw)

    assert marked.score == before + 20
    assert "sender_marked_spam" in _codes(marked)


def test_a_new_verdict_on_the_same_message_replaces_the_old(client: SpamClient) -> None:
    first = _verdict(client, "<a@deals.example>", "offers@deals.example", "spam")
    again = _verdict(client, "<a@deals.example>", "offers@deals.example", "spam")
    undone = _verdict(client, "<a@deals.example>", "offers@deals.example", "ham")

    assert (first.previous, first.history.spam) == (None, 1)
    assert (again.previous, again.history.spam) == ("spam", 1)
    assert (undone.previous, undone.history.spam, undone.history.ham) == ("spam", 0, 1)
    assert client.history(["OFFERS@deals.example", "nobody@x.example"]) == [undone.history]


def test_the_same_id_from_another_sender_is_another_message(client: SpamClient) -> None:
    _verdict(client, "42", "a@one.example", "spam")

    other = _verdict(client, "42", "b@two.example", "spam")

    assert (other.message_id, other.previous, other.history.spam) == ("42", None, 1)
    assert [h.spam for h in client.history(["a@one.example", "b@two.example"])] == [1, 1]


def test_a_batch_of_verdicts_with_a_bad_sender_records_none(client: SpamClient) -> None:
    good = ConfirmedVerdict(message_id="<a@x.example>", sender="a@x.example", verdict="spam")
    bad = ConfirmedVerdict(message_id="<b@x.example>", sender="just a name", verdict="spam")

    with pytest.raises(InvalidArgumentError, match="'just a name' is not a sender address"):
        client.record_verdicts([good, bad])

    assert client.history(["a@x.example"]) == []


def test_a_batch_of_verdicts_counts_each_message_once(client: SpamClient) -> None:
    verdicts = [
        ConfirmedVerdict(
            message_id=f"<{n}@deals.example>", sender="o@deals.example", verdict="spam"
        )
        for n in (1, 2, 2)
    ]

    recorded = client.record_verdicts(verdicts)

    assert [r.history.spam for r in recorded] == [1, 2, 2]
    assert [r.previous for r in recorded] == [None, None, "spam"]


# Lists --------------------------------------------------------------------------------------


def test_lists_round_trip_and_survive_a_restart(spam_settings: SpamSettings) -> None:
    client = SpamClient(spam_settings)
    client.allow(["Rose.Miller@Gmail.com", "school.example.org"], "family")
    client.block(["@promo-deals.example"], None)
    _verdict(client, "<x@promo-deals.example>", "win@promo-deals.example", "spam")

    restarted = SpamClient(spam_settings)
    lists = restarted.lists()

    assert [e.entry for e in lists.allow] == ["@school.example.org", "rose.miller@gmail.com"]
    assert [e.note for e in lists.allow] == ["family", "family"]
    assert [e.entry for e in lists.block] == ["@promo-deals.example"]
    assert restarted.history(["win@promo-deals.example"])[0].spam == 1


def test_a_domain_entry_covers_its_subdomains(client: SpamClient) -> None:
    client.block(["@promo-deals.example"], None)

    found = _one(client, "From: x <a@news.promo-deals.example>\nSubject: s\n\nb\n")

    assert (found.score, found.verdict) == (100, "spam")


def test_the_more_specific_entry_wins(client: SpamClient) -> None:
    client.block(["@example.com"], None)
    client.allow(["boss@example.com"], None)

    assert _one(client, "From: boss@example.com\nSubject: s\n\nb\n").score == 0
    assert _one(client, "From: other@example.com\nSubject: s\n\nb\n").score == 100


def test_allowing_a_blocked_sender_moves_it(client: SpamClient) -> None:
    client.block(["bob@example.com"], None)

    change = client.allow(["bob@example.com"], None)
    again = client.allow(["bob@example.com"], None)

    assert change.changed == ["bob@example.com"]
    assert [e.entry for e in change.lists.allow] == ["bob@example.com"]
    assert change.lists.block == []
    assert (again.changed, again.unchanged) == ([], ["bob@example.com"])


def test_removing_entries_reports_what_was_not_listed(client: SpamClient) -> None:
    client.allow(["bob@example.com"], None)

    change = client.remove(["bob@example.com", "@nowhere.example"])

    assert (change.changed, change.unchanged) == (["bob@example.com"], ["@nowhere.example"])
    assert change.lists.allow == []


def test_bad_entries_are_refused_and_nothing_is_written(client: SpamClient, data_dir: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"Not an address or domain: 'not an address'"):
        client.allow(["ok@example.com", "not an address"], None)

    assert not (data_dir / "spam.json").exists()


def test_the_file_is_private_and_written_whole(client: SpamClient, data_dir: Path) -> None:
    client.allow(["bob@example.com"], None)

    path = data_dir / "spam.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["allow"]["bob@example.com"]["note"] is None
    assert [p.name for p in data_dir.iterdir()] == ["spam.json"]


def test_a_damaged_file_is_reported_and_left_alone(client: SpamClient, data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "spam.json").write_text("{not json")

    with pytest.raises(ServerToolError, match="is damaged"):
        client.allow(["bob@example.com"], None)

    assert (data_dir / "spam.json").read_text() == "{not json"


# Bad input ----------------------------------------------------------------------------------


def test_text_that_is_not_a_mail_is_refused(client: SpamClient) -> None:
    with pytest.raises(InvalidArgumentError, match=r"message 1 \(id 'x'\) is not a mail message"):
        client.score_messages([MessageInput(raw=PERSONAL), MessageInput(id="x", raw="hello\n")])


def test_a_message_over_the_size_limit_is_refused(data_dir: Path) -> None:
    client = SpamClient(SpamSettings(_env_file=None, data_dir=data_dir, max_message_bytes=10_000))
    huge = PERSONAL + "x" * 20_000

    with pytest.raises(InvalidArgumentError, match=r"over the limit of 10,000 \(ANGIE_SPAM_MAX"):
        client.score_messages([MessageInput(raw=huge)])


def test_a_batch_over_the_limit_is_refused(data_dir: Path) -> None:
    client = SpamClient(SpamSettings(_env_file=None, data_dir=data_dir, max_batch=2))

    with pytest.raises(InvalidArgumentError, match="3 messages is over the limit of 2"):
        client.score_messages([MessageInput(raw=PERSONAL)] * 3)


def test_raw_and_headers_together_are_refused(client: SpamClient) -> None:
    with pytest.raises(InvalidArgumentError, match=r"either raw .* or headers"):
        client.score_messages([MessageInput(raw=PERSONAL, headers={"From": "a@b.example"})])


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="suspicious_threshold must be below spam_threshold"):
        SpamSettings(_env_file=None, spam_threshold=40, suspicious_threshold=50)
