"""Real-looking mail for tests and demos of the spam scorer, and the demo's data folder.

The scorer has no vendor: :class:`SampleMailbox` stands in for a mail server's listing so a
test can feed it messages the way the spam agent will, as untrusted text fetched from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from angie_mcp_core.fakes import FakeService, Reply, Request
from angie_mcp_spam.store import SpamStore

__all__ = (
    "ATTACHMENT_MALWARE",
    "NEWSLETTER",
    "PERSONAL",
    "PHISHING",
    "SAMPLES",
    "SampleMailbox",
    "demo",
    "seed_demo",
)

PHISHING = """\
Return-Path: <bounce-7781@mailer.account-verify.ru>
Received: from mailer.account-verify.ru (mailer.account-verify.ru [185.220.101.34])
        by mx.example.net with ESMTP id 4Xk2Lm0Qz; Tue, 12 Nov 2024 06:41:09 +0000
Authentication-Results: mx.example.net;
       spf=fail (example.net: domain of bounce-7781@mailer.account-verify.ru does not
       designate 185.220.101.34 as permitted sender) smtp.mailfrom=mailer.account-verify.ru;
       dkim=none;
       dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=paypa1.com
From: "PayPal Service" <service@paypa1.com>
Reply-To: support-desk@account-verify.ru
To: jordan@example.net
Subject: URGENT: Your account has been suspended
Date: Tue, 12 Nov 2024 06:41:02 +0000
Message-ID: <20241112064102.77812@paypa1.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset="utf-8"

Dear customer, we noticed unusual activity. Verify your account within 24 hours
or it will be closed: https://www.paypal.com.account-verify.ru/signin

--b1
Content-Type: text/html; charset="utf-8"

<html><body><p>Dear customer,</p>
<p>We noticed <b>unusual activity</b>. Verify your account within 24 hours or it will be
closed.</p>
<p><a href="https://www.paypal.com.account-verify.ru/signin?id=77812">https://www.paypal.com/signin</a></p>
<p>PayPal Security Team</p></body></html>

--b1--
"""

NEWSLETTER = """\
Return-Path: <bounces+2231-ab1c@em.morningbrew.com>
Authentication-Results: mx.example.net;
       dkim=pass header.i=@morningbrew.com header.s=s1 header.b=Qx7aLk2c;
       spf=pass (example.net: domain of bounces+2231-ab1c@em.morningbrew.com designates
       167.89.12.5 as permitted sender) smtp.mailfrom=bounces+2231-ab1c@em.morningbrew.com;
       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=morningbrew.com
From: Morning Brew <crew@morningbrew.com>
To: jordan@example.net
Subject: Markets climb as rates hold steady
Date: Wed, 13 Nov 2024 11:02:00 +0000
Message-ID: <a8f3c2e1.2231@morningbrew.com>
List-Unsubscribe: <https://morningbrew.com/unsubscribe?u=2231>, <mailto:unsub@morningbrew.com>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Precedence: bulk
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"

<html><body><h1>Good morning.</h1>
<p>Stocks rose on Tuesday after the central bank held rates.
<a href="https://www.morningbrew.com/daily/stories/markets">Read the full story</a>.</p>
<p>Also today: <a href="https://www.morningbrew.com/daily/stories/tech">a new phone</a>.</p>
<p><a href="https://morningbrew.com/unsubscribe?u=2231">Unsubscribe</a></p>
</body></html>
"""

PERSONAL = """\
Return-Path: <rose.miller@gmail.com>
Authentication-Results: mx.example.net;
       dkim=pass header.i=@gmail.com header.s=20230601 header.b=kP0x1mZa;
       spf=pass smtp.mailfrom=rose.miller@gmail.com;
       dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com
From: Rose Miller <rose.miller@gmail.com>
To: Jordan <jordan@example.net>
Subject: Sunday lunch?
Date: Thu, 14 Nov 2024 18:20:11 +0100
Message-ID: <CAF+q3Wd9x@mail.gmail.com>
Content-Type: text/plain; charset="utf-8"

Hi love, are you free for lunch on Sunday? I'm making the lasagne.
Bring the photos from the trip! Grandma
"""

ATTACHMENT_MALWARE = """\
Return-Path: <accounts@billing-office.example>
Authentication-Results: mx.example.net; spf=softfail smtp.mailfrom=billing-office.example;
       dkim=none; dmarc=none
From: Accounts Payable <accounts@billing-office.example>
To: jordan@example.net
Subject: Invoice 2024-1187 overdue - payment required immediately
Date: Fri, 15 Nov 2024 09:00:00 +0000
Message-ID: <inv-1187@billing-office.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m1"

--m1
Content-Type: text/plain; charset="utf-8"

Please find the overdue invoice attached. Final notice: pay immediately to avoid fees.

--m1
Content-Type: application/octet-stream; name="Invoice_2024-1187.pdf.exe"
Content-Disposition: attachment; filename="Invoice_2024-1187.pdf.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

--m1--
"""

#: Each sample by the id the mailbox lists it under.
SAMPLES: dict[str, str] = {
    "phishing": PHISHING,
    "newsletter": NEWSLETTER,
    "personal": PERSONAL,
    "malware": ATTACHMENT_MALWARE,
}


class SampleMailbox(FakeService):
    """A read-only mailbox on 127.0.0.1 listing :data:`SAMPLES` (or given messages).

    ``GET /messages`` answers ``[{"id": …, "raw": …}]``; ``GET /messages/<id>`` the raw text
    as ``message/rfc822``; anything else is 404 and every method but GET is 405.
    """

    def __init__(self, messages: dict[str, str] | None = None) -> None:
        super().__init__()
        self.messages = dict(SAMPLES if messages is None else messages)

    def answer(self, request: Request) -> Reply:
        if request.method != "GET":
            return Reply.json(405, {"error": "read-only mailbox"})
        if request.path == "/messages":
            listing = [{"id": k, "raw": v} for k, v in self.messages.items()]
            return Reply.json(200, listing)
        name = request.path.removeprefix("/messages/")
        if request.path.startswith("/messages/") and name in self.messages:
            body = self.messages[name].encode()
            return Reply(200, body, {"Content-Type": "message/rfc822"})
        return Reply.json(404, {"error": f"no message {name!r}"})


def seed_demo(data_dir: Path) -> None:
    """The demo person's lists: grandma and the bank allowed, a coupon mailer blocked."""
    store = SpamStore(data_dir)
    store.add("allow", ["rose.miller@gmail.com"], "Grandma")
    store.add("allow", ["@mybank.example"], "my bank")
    store.add("block", ["@promo-deals.example"], "endless coupons")
    store.record([("<CAF+q3Wd9x@mail.gmail.com>", "rose.miller@gmail.com", "Rose Miller", "ham")])


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """The spam server's settings for a demo: its lists under ``state_dir`` with a few entries.

    There is no vendor to start; the data folder is all it needs.
    """
    data_dir = state_dir / "data"
    if not (data_dir / "spam.json").exists():
        seed_demo(data_dir)
    yield {"ANGIE_SPAM_DATA_DIR": str(data_dir)}
