"""The web UI in Debian's Chromium (driven by Playwright) over 10,000 tasks: what it costs beyond
the API it calls.

Three figures, each against a baseline measured in the same run:

* the initial JavaScript: the entry chunk(s) ``index.html`` loads (its module scripts and
  modulepreloads), gzip level 9, against the 300 KB budget;
* the dashboard made interactive: from navigation (``performance.timeOrigin``) to the heading
  and the first of today's tasks drawn, against the same API calls the page made, replayed
  alone with httpx (so the ratio is the UI's own cost: scripts, rendering, sign-in by cookie);
* the task list scrolled to its 10,000th row in steps, one step a frame: the frame times
  (``requestAnimationFrame``), the long frames (over 50 ms), their p95 and the most rows ever
  in the DOM (the proof that only the visible rows are drawn), against a blank page of the
  same height scrolled in the same steps.

Angie runs in the ``api`` role in a process of its own (her real uvicorn, serving the built UI);
the tasks go in with one bulk insert. Without Chromium (/usr/bin/chromium, or
ANGIE_BENCH_CHROMIUM) or a built UI the bench says so and skips. Never a downloaded browser.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from angie.api.web import WEB_DIST
from angie.db.models import TaskStatus

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import bench_api_tasks as api_bench
else:  # run as a script: bench/ itself is on sys.path
    import bench_api_tasks as api_bench

CHROMIUM = Path(os.environ.get("ANGIE_BENCH_CHROMIUM", "/usr/bin/chromium"))
TASKS = 10_000
BUDGET = 300 * 1024  # bytes of gzipped initial JavaScript
GZIP_LEVEL = 9
LOADS = int(os.environ.get("ANGIE_BENCH_LOADS", "10"))  # dashboard loads, after WARM ones
WARM = 3
LONG_FRAME_MS = 50.0
STEP_PX = 300  # scrolled per frame: a brisk flick of the wheel
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
HERE = Path(__file__).resolve()
_ENTRIES = re.compile(
    r"<script[^>]*\btype=\"module\"[^>]*\bsrc=\"([^\"]+)\"|"
    r"<link[^>]*\brel=\"modulepreload\"[^>]*\bhref=\"([^\"]+)\""
)
# Interactive: the heading, and the first of today's tasks as a link to it.
_DASHBOARD_READY = """() => {
    const heading = [...document.querySelectorAll("h1")].some((h) => h.textContent === "Today");
    const first = document.querySelector('main a[href^="/tasks/"]');
    return heading && first !== null ? performance.now() : false;
}"""
# One step a frame until the bottom row is drawn (or time runs out); the frame times, and the
# most rows ever in the DOM. `scroller` is the list's scrolling element (the page for the blank
# baseline); `last` says whether the bottom was reached.
_SCROLL = """async ({ selector, step, frames, timeoutMs, rowSelector, lastRow }) => {
    const scroller = selector ? document.querySelector(selector) : document.scrollingElement;
    const times = [];
    let most = 0;
    let previous = await new Promise((r) => requestAnimationFrame(r));
    const began = previous;
    const done = () => frames > 0
        ? times.length >= frames
        : document.querySelector(lastRow) !== null;
    while (!done() && previous - began < timeoutMs) {
        scroller.scrollTop += step;
        const now = await new Promise((r) => requestAnimationFrame(r));
        times.push(now - previous);
        previous = now;
        most = Math.max(most, document.querySelectorAll(rowSelector).length);
    }
    return { times, most, reached: done(), spentMs: previous - began };
}"""
_LIST = 'div[role="table"][aria-label="Tasks"]'
_ROWS = '[role="row"]'


def skip_reason() -> str | None:
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (or set ANGIE_BENCH_CHROMIUM)"
    if not (WEB_DIST / "index.html").is_file():
        return f"the web UI is not built in {WEB_DIST}: run `make install`"
    return None


# -- the initial JavaScript -------------------------------------------------------------------


def initial_js(dist: Path = WEB_DIST) -> list[tuple[str, int, int]]:
    """Each entry chunk ``index.html`` loads: its path, its bytes, its gzip-9 bytes."""
    html = (dist / "index.html").read_text(encoding="utf-8")
    found: list[tuple[str, int, int]] = []
    for match in _ENTRIES.finditer(html):
        src = (match.group(1) or match.group(2)).lstrip("/")
        raw = (dist / src).read_bytes()
        found.append((src, len(raw), len(gzip.compress(raw, compresslevel=GZIP_LEVEL))))
    if not found:
        raise RuntimeError(f"{dist / 'index.html'} loads no module script")
    return found


def report_js(chunks: list[tuple[str, int, int]]) -> None:
    total = sum(zipped for _, _, zipped in chunks)
    print(f"initial JavaScript (entry chunks of index.html, gzip -{GZIP_LEVEL}):")
    for src, raw, zipped in chunks:
        print(f"  {src:<40} {raw / 1024:8.1f} KB raw {zipped / 1024:8.1f} KB gzip")
    verdict = "within" if total <= BUDGET else "OVER"
    print(
        f"  {'total':<40} {total / 1024:26.1f} KB gzip; budget {BUDGET / 1024:.0f} KB: "
        f"{total / BUDGET:.2f}x of it ({verdict})"
    )


# -- the data ---------------------------------------------------------------------------------


async def fill(data_dir: Path, user_id: int) -> None:
    """10,000 tasks of one person, a minute apart up to now (so the dashboard has today's tasks
    to show), with more failures than the API bench's mix."""
    statuses = [
        TaskStatus.SUCCEEDED,
        TaskStatus.SUCCEEDED,
        TaskStatus.FAILED,
        TaskStatus.SUCCEEDED,
        TaskStatus.CANCELLED,
    ]
    await api_bench.fill(
        data_dir, user_id, until=datetime.now(UTC), every=timedelta(minutes=1), statuses=statuses
    )


# -- the browser ------------------------------------------------------------------------------


async def sign_in(page: Page, url: str) -> None:
    await page.goto(f"{url}/")
    await page.get_by_label("Email").fill(api_bench.EMAIL)
    await page.get_by_label("Password").fill(api_bench.PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    # An account made through the API goes straight to the dashboard (no interview, no tour).
    await page.get_by_role("heading", name="Today", exact=True).wait_for(timeout=60_000)


async def dashboard_load(page: Page, url: str, calls: list[str] | None = None) -> float:
    """One navigation to the dashboard: milliseconds until it is interactive. ``calls`` gets
    the API requests the page made."""

    def seen(request: Any) -> None:
        if calls is not None and "/api/" in request.url:
            calls.append(f"{request.method} {request.url}")

    page.on("request", seen)
    try:
        await page.goto(f"{url}/", wait_until="commit")
        ready = await page.wait_for_function(_DASHBOARD_READY, polling="raf", timeout=60_000)
        return float(await ready.json_value())
    finally:
        page.remove_listener("request", seen)


async def replay(client: httpx.AsyncClient, calls: list[str], auth: dict[str, str]) -> float:
    """The page's API reads made alone, in its order: milliseconds for all of them."""
    began = time.perf_counter()
    for call in calls:
        method, target = call.split(" ", 1)
        response = await client.request(method, target, headers=auth)
        response.raise_for_status()
    return (time.perf_counter() - began) * 1000


async def dashboard(
    browser: Browser, url: str, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await sign_in(page, url)
    calls: list[str] = []
    for _ in range(WARM):
        calls.clear()
        await dashboard_load(page, url, calls)
    # The sign-in by refresh cookie cannot be replayed (it turns the cookie over): the baseline
    # is the page's reads with a bearer token; the refresh stays in the UI's share.
    reads = [c for c in calls if c.startswith("GET ") and "/api/auth/" not in c]
    ui: list[float] = []
    alone: list[float] = []
    for _ in range(LOADS):  # alternating, so both see the same machine
        ui.append(await dashboard_load(page, url))
        alone.append(await replay(client, reads, auth))
    await context.close()
    print(
        f"dashboard interactive (heading + first of today's tasks), {TASKS:,} tasks; "
        f"{LOADS} loads after {WARM} warm-up ones, cached scripts:"
    )
    for call in calls:
        print(f"  the page called {call.split('?')[0]}")
    a50, b50 = statistics.median(ui), statistics.median(alone)
    a_max, b_max = max(ui), max(alone)
    print(f"  {'':<34} {'median ms':>10} {'max ms':>8}")
    print(f"  {'the UI, navigation to interactive':<34} {a50:10.1f} {a_max:8.1f}")
    print(f"  {'its API reads alone (httpx)':<34} {b50:10.1f} {b_max:8.1f}")
    print(f"  {'ratio UI / API alone':<34} {a50 / b50:9.2f}x {a_max / b_max:7.2f}x")


async def scroll(page: Page, selector: str | None, frames: int, last: str) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(
        _SCROLL,
        {
            "selector": selector,
            "step": STEP_PX,
            "frames": frames,
            "timeoutMs": 180_000,
            "rowSelector": _ROWS,
            "lastRow": last,
        },
    )
    return result


def frame_figures(times: list[float]) -> tuple[int, float, float]:
    return (
        sum(t > LONG_FRAME_MS for t in times),
        api_bench.pct(times, 95),
        max(times, default=0.0),
    )


async def task_list(browser: Browser, url: str) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await sign_in(page, url)
    await page.goto(f"{url}/tasks")
    await page.locator(f"{_LIST} {_ROWS}").first.wait_for(timeout=60_000)
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "/api/tasks?" in r.url else None)
    listed = await scroll(page, _LIST, 0, f'{_LIST} [aria-rowindex="{TASKS}"]')
    if not listed["reached"]:
        raise RuntimeError("the task list did not reach its last row in time")
    total_rows = await page.locator(_LIST).get_attribute("aria-rowcount")
    # The baseline: a blank page as tall as the list, scrolled in the same steps, as many frames.
    height = TASKS * 56
    await page.set_content(f'<div style="height:{height}px"></div>')
    blank = await scroll(page, None, len(listed["times"]), "")
    await context.close()

    print(
        f"task list scrolled to row {TASKS:,} (aria-rowcount {total_rows}), {STEP_PX} px a frame, "
        f"{len(pages)} more pages fetched on the way:"
    )
    print(
        f"  {'':<30} {'frames':>7} {'long >50ms':>11} {'p95 ms':>8} {'max ms':>8} "
        f"{'rows in DOM':>12} {'seconds':>8}"
    )
    figures = {}
    for label, run in (("the task list", listed), ("a blank page (baseline)", blank)):
        long, p95, worst = frame_figures(run["times"])
        figures[label] = (long, p95)
        print(
            f"  {label:<30} {len(run['times']):7d} {long:11d} {p95:8.1f} {worst:8.1f} "
            f"{run['most']:12d} {run['spentMs'] / 1000:8.1f}"
        )
    (_, list_p95), (_, blank_p95) = figures.values()
    print(f"  {'ratio list / blank, p95':<30} {list_p95 / blank_p95:27.2f}x")


# -- the run ----------------------------------------------------------------------------------


async def measure(data_dir: Path) -> None:
    started = time.perf_counter()
    port = api_bench.free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE), "serve-angie", str(data_dir), str(port)
    )
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            url = f"http://127.0.0.1:{port}"
            await api_bench.wait_up(client, f"{url}/api/health")
            code = (data_dir / "setup-code").read_text().strip()
            made = await client.post(
                f"{url}/api/auth/register",
                json={
                    "email": api_bench.EMAIL,
                    "password": api_bench.PASSWORD,
                    "display_name": "Bench",
                    "setup_code": code,
                },
            )
            made.raise_for_status()
            login = await client.post(
                f"{url}/api/auth/login",
                json={"email": api_bench.EMAIL, "password": api_bench.PASSWORD},
            )
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            await fill(data_dir, int(made.json()["id"]))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True
                )
                try:
                    measured = time.perf_counter()
                    await dashboard(browser, url, client, auth)
                    await task_list(browser, url)
                finally:
                    await browser.close()
            spent = time.perf_counter() - measured
            print(f"(setup {measured - started:.1f} s, measuring {spent:.1f} s)")
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 15)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    if len(sys.argv) > 1 and sys.argv[1] == "serve-angie":
        asyncio.run(api_bench.serve_angie(Path(sys.argv[2]), int(sys.argv[3])))
        return
    reason = skip_reason()
    if reason is not None:
        print(f"skipped: {reason}")
        return
    report_js(initial_js())
    with tempfile.TemporaryDirectory(prefix="angie-bench-web-") as tmp:
        asyncio.run(measure(Path(tmp)))


if __name__ == "__main__":
    main()
