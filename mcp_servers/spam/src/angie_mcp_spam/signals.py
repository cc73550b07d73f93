"""The signals a message is scored on, each a weighted reason: positive toward spam.

Pure functions of a parsed message and what the person's lists and history say; they read the
untrusted mail text as data and never follow what it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from angie_mcp_spam.domains import (
    BRANDS,
    host_of,
    is_ip,
    lookalike_of,
    registrable,
    same_organisation,
    unicode_form,
)
from angie_mcp_spam.message import ParsedMessage, domain_of
from angie_mcp_spam.models import Reason

__all__ = ("Context", "authentication", "header_reasons", "link_reasons")


@dataclass(frozen=True, slots=True)
class Context:
    """What the person's data says about a message's sender."""

    #: The allow or block list entry the sender matches, if any.
    allowed: str | None = None
    blocked: str | None = None
    spam_marks: int = 0
    ham_marks: int = 0
    #: Known senders' display names (lower case) to their addresses, to catch borrowed names.
    known_names: dict[str, str] = field(default_factory=dict)
    #: Brand or known labels to real domains, to catch lookalikes.
    known_domains: dict[str, str] = field(default_factory=dict)


#: Brands that are also people's first names: "Chase Miller" is no claim to be the bank.
_FIRST_NAMES = frozenset({"chase"})

_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_DKIM_DOMAIN = re.compile(r"\bheader\.(?:d|i)\s*=\s*@?([\w.-]+)", re.IGNORECASE)
_RECEIVED_SPF = re.compile(r"^\s*(pass|fail|softfail|neutral|none|temperror|permerror)\b", re.I)


def authentication(message: ParsedMessage) -> dict[str, str]:
    """SPF, DKIM and DMARC results from the topmost Authentication-Results (the one the person's
    own provider added; lower ones may be the sender's inventions) and Received-SPF."""
    found: dict[str, str] = {}
    dkim_rank = -1
    for clause in (message.header("authentication-results") or "").split(";"):
        match = _RESULT.search(clause)
        if not match:
            continue
        method, result = match.group(1).lower(), match.group(2).lower()
        if method != "dkim":
            found.setdefault(method, result)
            continue
        signer = _DKIM_DOMAIN.search(clause)
        domain = signer.group(1).lower() if signer else None
        # Of several signatures the best counts: one aligned with From, then any that passed.
        aligned = domain is not None and same_organisation(domain, message.sender_domain)
        rank = (2 if aligned else 1) if result == "pass" else 0
        if rank > dkim_rank:
            dkim_rank = rank
            found["dkim"] = result
            if domain:
                found["dkim_domain"] = domain
            else:
                found.pop("dkim_domain", None)
    received_spf = message.header("received-spf")
    if "spf" not in found and received_spf and (match := _RECEIVED_SPF.match(received_spf)):
        found["spf"] = match.group(1).lower()
    return found


def _auth_reasons(message: ParsedMessage) -> list[Reason]:
    auth = authentication(message)
    out: list[Reason] = []
    spf = auth.get("spf")
    if spf in ("fail", "permerror"):
        out.append(
            Reason(
                code="spf_fail",
                weight=15,
                detail=f"SPF {spf}: the sending server is not one the sender's domain allows.",
            )
        )
    elif spf == "softfail":
        out.append(
            Reason(
                code="spf_softfail",
                weight=8,
                detail="SPF softfail: the sending "
                "server is probably not allowed to send for the domain.",
            )
        )
    elif spf == "pass":
        out.append(Reason(code="spf_pass", weight=-5, detail="SPF pass."))
    dkim, dkim_domain = auth.get("dkim"), auth.get("dkim_domain")
    if dkim in ("fail", "permerror"):
        out.append(
            Reason(
                code="dkim_fail",
                weight=15,
                detail="DKIM fail: the signature does "
                "not match, the message was altered or forged.",
            )
        )
    elif dkim == "pass" and same_organisation(dkim_domain, message.sender_domain):
        out.append(
            Reason(
                code="dkim_pass",
                weight=-10,
                detail=f"DKIM pass, signed by the sender's domain {dkim_domain}.",
            )
        )
    elif dkim == "pass":
        out.append(
            Reason(
                code="dkim_pass_other_domain",
                weight=-3,
                detail=f"DKIM pass, but signed by {dkim_domain}, not the From domain.",
            )
        )
    dmarc = auth.get("dmarc")
    if dmarc == "fail":
        out.append(
            Reason(
                code="dmarc_fail",
                weight=25,
                detail="DMARC fail: the From domain does not vouch for this message.",
            )
        )
    elif dmarc == "pass":
        out.append(
            Reason(
                code="dmarc_pass",
                weight=-15,
                detail="DMARC pass: the From domain vouches for this message.",
            )
        )
    return out


def _sender_reasons(message: ParsedMessage, context: Context) -> list[Reason]:
    out: list[Reason] = []
    sender, domain = message.sender, message.sender_domain
    if message.reply_to and not same_organisation(domain_of(message.reply_to), domain):
        out.append(
            Reason(
                code="reply_to_mismatch",
                weight=10,
                detail=f"Replies go to {message.reply_to}, not to the sender's domain.",
            )
        )
    if message.return_path and not same_organisation(domain_of(message.return_path), domain):
        out.append(
            Reason(
                code="return_path_mismatch",
                weight=4,
                detail=f"Bounces go to {message.return_path}, another domain than the sender's.",
            )
        )
    name = (message.display_name or "").strip()
    if name and sender:
        embedded = re.search(r"[\w.+-]+@([\w-]+\.[\w.-]+)", name)
        known = context.known_names.get(name.lower())
        if embedded and not same_organisation(embedded.group(1).lower(), domain):
            out.append(
                Reason(
                    code="display_name_spoof",
                    weight=25,
                    detail=f"The name shows {embedded.group(0)} but the mail is from {sender}.",
                )
            )
        elif known and known != sender:
            out.append(
                Reason(
                    code="display_name_spoof",
                    weight=30,
                    detail=f"The name {name!r} "
                    f"is a known sender's ({known}) but the mail is from {sender}.",
                )
            )
        elif domain:
            words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", name)}
            claimed = sorted(w for w in words if w in BRANDS and w not in _FIRST_NAMES)
            if claimed and not any(same_organisation(BRANDS[w], domain) for w in claimed):
                brand = BRANDS[claimed[0]]
                out.append(
                    Reason(
                        code="display_name_brand",
                        weight=20,
                        detail=f"The name {name!r} suggests {brand} but the mail is from {domain}.",
                    )
                )
    if domain:
        if "xn--" in domain:
            out.append(
                Reason(
                    code="punycode_sender",
                    weight=15,
                    detail=f"The sender's domain is punycode, shown as {unicode_form(domain)}.",
                )
            )
        imitated = lookalike_of(domain, context.known_domains)
        if imitated:
            out.append(
                Reason(
                    code="lookalike_sender",
                    weight=40,
                    detail=f"The sender's domain {domain} imitates {imitated}.",
                )
            )
    return out


def _bulk_reasons(message: ParsedMessage) -> list[Reason]:
    out: list[Reason] = []
    if message.header("list-unsubscribe"):
        out.append(
            Reason(
                code="list_unsubscribe",
                weight=5,
                detail="Bulk mail: it has a List-Unsubscribe header (a newsletter or mailing).",
            )
        )
    precedence = (message.header("precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        out.append(
            Reason(
                code="precedence_bulk",
                weight=3,
                detail=f"Sent as bulk mail (Precedence: {precedence}).",
            )
        )
    if (message.header("x-spam-flag") or "").strip().upper() == "YES":
        out.append(
            Reason(
                code="provider_spam_flag",
                weight=15,
                detail="The receiving mail server's own filter flagged it (X-Spam-Flag).",
            )
        )
    return out


_SHORTENERS = frozenset({"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "rb.gy",
                         "cutt.ly", "shorturl.at", "tiny.cc", "buff.ly"})  # fmt: skip
_SHOWN_HOST = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?:[/:?#].*)?$")


def link_reasons(message: ParsedMessage, context: Context) -> list[Reason]:
    out: list[Reason] = []
    hosts = [h for h in (host_of(link.href) for link in message.links) if h]
    if len(hosts) > 15:
        out.append(Reason(code="many_links", weight=5, detail=f"{len(hosts)} links."))
    mismatched = []
    for link in message.links:
        href_host = host_of(link.href)
        shown = _SHOWN_HOST.match(link.text.strip().lower())
        if (
            href_host
            and shown
            and not shown.group(1)[-1].isdigit()
            and not same_organisation(shown.group(1), href_host)
        ):
            mismatched.append(f"{shown.group(1)} → {href_host}")
    if mismatched:
        out.append(
            Reason(
                code="link_text_mismatch",
                weight=25,
                detail=f"{len(mismatched)} "
                f"link(s) show one address and lead to another: {mismatched[0]}.",
            )
        )
    ip_hosts = [h for h in hosts if is_ip(h)]
    if ip_hosts:
        out.append(
            Reason(
                code="ip_link",
                weight=15,
                detail=f"A link goes to a bare IP address ({ip_hosts[0]}).",
            )
        )
    short = [h for h in hosts if h in _SHORTENERS]
    if short:
        out.append(
            Reason(
                code="shortened_link",
                weight=5,
                detail=f"A link hides its target behind {short[0]}.",
            )
        )
    puny = [h for h in hosts if "xn--" in h]
    if puny:
        out.append(
            Reason(
                code="punycode_link",
                weight=10,
                detail=f"A link goes to a punycode domain, shown as {unicode_form(puny[0])}.",
            )
        )
    sender_org = registrable(message.sender_domain) if message.sender_domain else None
    for host in hosts:
        if sender_org and registrable(host) == sender_org:
            continue
        imitated = lookalike_of(host, context.known_domains)
        if imitated:
            out.append(
                Reason(
                    code="lookalike_link",
                    weight=30,
                    detail=f"A link goes to {host}, which imitates {imitated}.",
                )
            )
            break
    return out


def header_reasons(message: ParsedMessage, context: Context) -> list[Reason]:
    """Reasons from the header fields: authentication, the sender's addresses, bulk marks."""
    return [
        *_auth_reasons(message),
        *_sender_reasons(message, context),
        *_bulk_reasons(message),
    ]
