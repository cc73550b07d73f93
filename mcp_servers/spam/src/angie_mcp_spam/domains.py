"""Domains in mail: the registrable part, punycode, and names made to look like known ones.

Offline by design: no public suffix list is fetched, so a short list of two-part suffixes
(co.uk, com.au, …) stands in for it; the scorer needs the brand label, not legal precision.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = (
    "BRANDS",
    "host_of",
    "is_ip",
    "lookalike_of",
    "registrable",
    "same_organisation",
    "unicode_form",
)

_TWO_PART_SUFFIXES = frozenset(
    {"co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.nz", "co.jp",
     "ne.jp", "or.jp", "com.br", "com.mx", "co.in", "co.za", "com.cn", "com.tr", "co.kr",
     "com.sg", "com.hk", "gv.at", "co.at"}
)  # fmt: skip

#: Domains phishing most often imitates, by their brand label.
BRANDS: dict[str, str] = {
    d.split(".")[0]: d
    for d in (
        "paypal.com", "apple.com", "icloud.com", "amazon.com", "microsoft.com", "google.com",
        "gmail.com", "netflix.com", "facebook.com", "instagram.com",
        "linkedin.com", "dropbox.com", "docusign.net", "dhl.com", "fedex.com", "ups.com",
        "usps.com", "chase.com", "wellsfargo.com", "bankofamerica.com", "citibank.com",
        "americanexpress.com", "coinbase.com", "binance.com", "ebay.com", "adobe.com",
        "spotify.com", "irs.gov", "hmrc.gov.uk", "steampowered.com", "whatsapp.com",
    )
}  # fmt: skip

#: Brands that are also everyday words: only a whole label imitating them counts, so that
#: apple-orchard.example or chase-the-sun.example are not taken for phishing.
_WORDS = frozenset({"apple", "amazon", "chase", "adobe", "ebay"})

# Characters and pairs people misread as others: the usual lookalike tricks.
_CONFUSABLE = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("3", "e"),
               ("5", "s"), ("4", "a"), ("7", "t"), ("|", "l"), ("i", "l"), ("-", ""))  # fmt: skip


def host_of(url: str) -> str | None:
    """The lower-case host of a URL (``None`` for mailto:, relative or broken links)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.strip(".").lower()


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def registrable(domain: str) -> str:
    """``example.co.uk`` of ``mail.news.example.co.uk``; the last two labels otherwise."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_PART_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_organisation(a: str | None, b: str | None) -> bool:
    """Whether two domains share their registrable part (bounce.x.com and x.com do)."""
    if not a or not b:
        return True
    return registrable(a) == registrable(b)


def unicode_form(domain: str) -> str:
    """The domain as a reader sees it: ``xn--pypal-4ve.com`` is paypal.com with a Cyrillic a."""
    try:
        return domain.encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        return domain


def _skeleton(label: str) -> str:
    """A label with confusable characters folded, so ``paypa1`` and ``paypal`` compare equal."""
    folded = label.lower()
    for confusable, plain in _CONFUSABLE:
        folded = folded.replace(confusable, plain)
    # Cyrillic and Greek letters that render as Latin ones.
    return folded.translate(
        str.maketrans(
            "\u0430\u0435\u043e\u0440\u0441\u0445\u0443\u0456\u0455\u0501\u0261\u03bf\u03b1",
            "aeopcxyisdgoa",
        )
    )


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one letter added, dropped or changed turns ``a`` into ``b`` (``paypall``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def lookalike_of(domain: str, known: dict[str, str]) -> str | None:
    """The known domain ``domain`` imitates, or None.

    ``known`` maps a brand label (``paypal``) to its real domain. A domain imitates one when it
    is not that domain (nor under it) and its label folds to the brand's (``paypa1``,
    ``xn--pypal-4ve``), is one edit away from a label of six letters or more (``paypall``),
    or carries the brand as a label in front of another domain (``paypal.com.secure-login.ru``)
    or as a hyphenated word of its label (``paypal-secure.com``).
    """
    domain = domain.lower().strip(".")
    own = registrable(domain)
    for real in known.values():
        if own == registrable(real):
            return None
    shown = unicode_form(own)
    label = shown.split(".")[0]
    for brand, real in known.items():
        if label == brand:
            # The brand's own name under another suffix (paypal.co.uk) is most often the brand's.
            continue
        if _skeleton(label) == _skeleton(brand):
            return real
        if len(brand) >= 6 and _one_edit_apart(label, brand):
            return real
    for token in label.split("-") if "-" in label else ():
        for brand, real in known.items():
            if len(brand) >= 5 and brand not in _WORDS and _skeleton(token) == _skeleton(brand):
                return real
    inner = domain.removesuffix(own).strip(".").split(".")
    for part in inner:
        if part in known and len(part) >= 4:
            return known[part]
    return None
