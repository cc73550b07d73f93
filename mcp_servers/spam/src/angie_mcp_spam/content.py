"""Signals in what a message says and carries: shouting, urgency, money, credentials, files.

English phrases only; mail in other languages is scored on its headers and links alone.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from angie_mcp_spam.message import ParsedMessage
from angie_mcp_spam.models import Reason

__all__ = ("RISKY_EXTENSIONS", "content_reasons")

#: Attachments that run code when opened (or hide a program behind another icon).
RISKY_EXTENSIONS = frozenset(
    {".exe", ".scr", ".com", ".pif", ".bat", ".cmd", ".js", ".jse", ".vbs", ".vbe", ".wsf",
     ".hta", ".msi", ".jar", ".ps1", ".lnk", ".iso", ".img", ".vhd", ".cab", ".reg", ".cpl",
     ".docm", ".xlsm", ".pptm", ".dotm", ".xlam", ".one", ".svg", ".htm", ".html", ".xll"}
)  # fmt: skip
_DOCUMENT_EXTENSIONS = frozenset({".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".png", ".txt"})

_URGENCY = (
    "urgent", "immediately", "act now", "within 24 hours", "within 48 hours", "final notice",
    "last chance", "expires today", "account will be closed", "account has been suspended",
    "account suspended", "unusual activity", "suspicious activity", "limited time",
    "respond now", "don't delay", "action required",
)  # fmt: skip
_MONEY = (
    "you have won", "you've won", "winner", "lottery", "prize", "inheritance", "wire transfer",
    "bitcoin", "crypto wallet", "gift card", "claim your reward", "cash bonus",
    "million dollars", "million usd", "investment opportunity", "guaranteed income",
    "refund pending", "unclaimed funds", "beneficiary",
)  # fmt: skip
_CREDENTIALS = (
    "verify your account", "verify your identity", "confirm your password",
    "confirm your account", "update your payment", "update your billing",
    "re-enter your password", "login to restore", "log in to restore", "validate your account",
    "your password expires", "reactivate your account", "confirm your details",
)  # fmt: skip


def _found(phrases: tuple[str, ...], text: str) -> list[str]:
    return [p for p in phrases if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text)]


def _shouting(subject: str) -> bool:
    letters = [c for c in subject if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= 0.7


def _attachment_reasons(names: list[str]) -> list[Reason]:
    for name in names:
        suffixes = [s.lower() for s in PurePosixPath(name.strip().lower()).suffixes]
        if not suffixes or suffixes[-1] not in RISKY_EXTENSIONS:
            continue
        if len(suffixes) >= 2 and suffixes[-2] in _DOCUMENT_EXTENSIONS:
            return [
                Reason(
                    code="disguised_attachment",
                    weight=45,
                    detail=f"The attachment "
                    f"{name!r} is a {suffixes[-1]} file posing as a {suffixes[-2]}.",
                )
            ]
        return [
            Reason(
                code="risky_attachment",
                weight=35,
                detail=f"The attachment {name!r} "
                f"is a {suffixes[-1]} file, a kind that can run code.",
            )
        ]
    return []


def content_reasons(message: ParsedMessage) -> list[Reason]:
    """Reasons from the subject, the text and the attachments' names."""
    out: list[Reason] = []
    subject = message.subject
    text = f"{subject}\n{message.text}".lower()
    if _shouting(subject):
        out.append(
            Reason(
                code="all_caps_subject", weight=10, detail="The subject shouts in capital letters."
            )
        )
    if "!!!" in text or "$$$" in text:
        out.append(Reason(code="excess_punctuation", weight=5, detail="Strings of '!!!' or '$$$'."))
    for code, weight, phrases, what in (
        ("urgency", 12, _URGENCY, "Pressure to act fast"),
        ("money", 12, _MONEY, "Promises or requests of money"),
        ("credentials", 15, _CREDENTIALS, "Asks to verify an account or give a password"),
    ):
        found = _found(phrases, text)
        if found:
            quoted = ", ".join(repr(f) for f in found[:3])
            out.append(Reason(code=code, weight=weight, detail=f"{what}: {quoted}."))
    out.extend(_attachment_reasons(message.attachments))
    return out
