"""A fake GitHub REST API on 127.0.0.1 that the real PyGithub talks to.

Angie's own tests and demos drive the real GitHub server against it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from angie_mcp_core.fakes import FakeService, Reply, Request

__all__ = ("TOKEN", "FakeGitHub", "Item", "Repo", "demo")

TOKEN = "ghp_FAKEtoken0123456789abcdefABCDEF0123"
HTML = "https://github.com"
PR_SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
MERGED_SHA = "e5bd3914e2e596debea16f433f57875b5b90bcd6"

Json = dict[str, Any]

DEFAULT_ERRORS: dict[int, str] = {
    401: "Bad credentials",
    403: "API rate limit exceeded for user ID 1.",
    404: "Not Found",
    422: "Validation Failed",
    429: "You have exceeded a secondary rate limit.",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Item:
    """An issue, or a pull request when ``head`` is set (GitHub numbers them together)."""

    number: int
    title: str
    user: str
    created_at: str
    body: str = ""
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    updated_at: str = ""
    closed_at: str | None = None
    head: str | None = None
    head_sha: str = ""
    base: str = "main"
    draft: bool = False
    merged_at: str | None = None
    mergeable: bool | None = True
    requested_reviewers: list[str] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    labels: list[Json] = field(default_factory=list)
    items: dict[int, Item] = field(default_factory=dict)
    comments: dict[int, list[Json]] = field(default_factory=dict)
    reviews: dict[int, list[Json]] = field(default_factory=dict)
    statuses: dict[str, list[Json]] = field(default_factory=dict)
    check_runs: dict[str, list[Json]] = field(default_factory=dict)
    runs: list[Json] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class FakeGitHub(FakeService):
    """GitHub's REST API for the endpoints the client uses, with in-memory state.

    Failure injection: ``fail_next(status, times=1, headers=None, body=None)`` answers the next
    requests with that error; ``delay`` holds every answer that many seconds (``release()``
    lets held answers go). ``requests`` logs ``(method, path?query)`` of every request.
    """

    keep_alive = True

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.login = "octocat"
        # Set to answer like GitHub Enterprise Server (it sends its version on every response).
        self.enterprise_version: str | None = None
        self.repos: dict[str, Repo] = {}
        self.notifications: list[Json] = []
        self._ids = iter(range(9000, 10**9))
        self._seed()

    # -- lifecycle and test controls --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, path?query)`` of every request, in order."""
        return [(r.method, r.target) for r in self.log]

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        if body is None:
            body = {
                "message": DEFAULT_ERRORS.get(status, "Error"),
                "documentation_url": "https://docs.github.com/rest",
            }
        self.inject(_wire((status, body, headers or {})), times=times)

    def repo(self, full_name: str) -> Repo:
        return self.repos[full_name.lower()]

    def paths(self) -> list[str]:
        return [path.split("?")[0] for _, path in self.requests]

    def add_item(
        self, repo: str, title: str, *, pull: bool = False, created_at: str | None = None
    ) -> int:
        """Add an issue (or an open pull request) to ``repo``; returns its number."""
        state = self.repo(repo)
        number = max(state.items, default=0) + 1
        head = f"topic/{number}" if pull else None
        state.items[number] = Item(
            number, title, "octocat", created_at or now(), head=head, head_sha=PR_SHA
        )
        return number

    def add_comment(self, repo: str, number: int, body: str, *, user: str = "octocat") -> None:
        self.repo(repo).comments.setdefault(number, []).append(self._comment(user, body, now()))

    def add_review(self, repo: str, number: int, user: str, state: str) -> None:
        self.repo(repo).reviews.setdefault(number, []).append(self._review(user, state, "", 9))

    # -- seed data --------------------------------------------------------------------------------

    def _seed(self) -> None:
        hello = Repo("octocat", "Hello-World", 1296269)
        hello.labels = [
            _label(1, "bug", "d73a4a", "Something isn't working"),
            _label(2, "enhancement", "a2eeef", "New feature or request"),
            _label(3, "documentation", "0075ca", "Improvements or additions to documentation"),
            _label(4, "good first issue", "7057ff", "Good for newcomers"),
        ]
        hello.items = {
            1: Item(1, "Found a bug", "alice", "2024-05-01T10:00:00Z", "It crashes on start.",
                    labels=["bug"], updated_at="2024-05-03T10:00:00Z"),
            2: Item(2, "Add a greeting", "bob", "2024-05-02T09:00:00Z", "Says hello.",
                    head="feature/greeting", head_sha=PR_SHA, requested_reviewers=["carol"]),
            3: Item(3, "Crash on empty input", "octocat", "2024-04-20T08:00:00Z", state="closed",
                    labels=["bug"], closed_at="2024-04-21T08:00:00Z"),
            4: Item(4, "Fix typo in README", "alice", "2024-04-25T12:00:00Z", state="closed",
                    head="fix/typo", head_sha=MERGED_SHA, closed_at="2024-04-26T12:00:00Z",
                    merged_at="2024-04-26T12:00:00Z"),
            5: Item(5, "Document the API", "carol", "2024-05-02T15:00:00Z",
                    labels=["documentation"]),
        }  # fmt: skip
        hello.comments = {
            1: [
                self._comment("octocat", "Can you share the log?", "2024-05-01T11:00:00Z"),
                self._comment("alice", "Here it is: boom.", "2024-05-01T12:00:00Z"),
                self._comment("bob", "Fixed in #2.", "2024-05-03T10:00:00Z"),
            ],
            2: [self._comment("alice", "Nice!", "2024-05-02T10:00:00Z")],
        }
        hello.reviews = {
            2: [
                self._review("alice", "CHANGES_REQUESTED", "Please add a test.", 1),
                self._review("dave", "COMMENTED", "Looks fine to me.", 2),
                self._review("alice", "APPROVED", "Thanks!", 3),
            ],
            4: [self._review("bob", "APPROVED", "", 1)],
        }
        hello.statuses = {PR_SHA: [_status(1, "ci/jenkins", "success", "Build passed")]}
        hello.check_runs = {
            PR_SHA: [_check_run(11, "build", "completed", "success"),
                     _check_run(12, "lint", "in_progress", None)],
        }  # fmt: skip
        hello.runs = [
            _run(30433642, "CI", "Add a greeting", 42, "feature/greeting", "pull_request",
                 "in_progress", None, "2024-05-03T09:00:00Z"),
            _run(30433641, "CI", "Merge pull request #4", 41, "main", "push", "completed",
                 "success", "2024-05-02T12:00:00Z"),
            _run(30433640, "Release", "v1.0.0", 7, "main", "push", "completed", "failure",
                 "2024-05-01T08:00:00Z"),
        ]  # fmt: skip
        spoon = Repo("octocat", "Spoon-Knife", 1300192)
        spoon.items = {1: Item(1, "Fork me", "bob", "2024-04-01T10:00:00Z")}
        self.repos = {r.full_name.lower(): r for r in (hello, spoon)}
        self.notifications = [
            _thread("2", hello, "Add a greeting", "PullRequest", "pulls/2", "review_requested",
                    True, "2024-05-03T11:00:00Z"),
            _thread("1", hello, "Found a bug", "Issue", "issues/1", "mention", True,
                    "2024-05-03T10:00:00Z"),
            _thread("3", spoon, "v2.0", "Release", "releases/1", "subscribed", False,
                    "2024-05-02T10:00:00Z"),
        ]  # fmt: skip

    def _comment(self, user: str, body: str, at: str) -> Json:
        return {"id": next(self._ids), "user": user, "body": body, "created_at": at}

    def _review(self, user: str, state: str, body: str, day: int) -> Json:
        return {"id": next(self._ids), "user": user, "state": state, "body": body,
                "submitted_at": f"2024-05-0{day}T16:00:00Z"}  # fmt: skip

    # -- JSON shapes (as GitHub sends them; URLs point at this fake) ------------------------------

    def user_json(self, login: str) -> Json:
        api = f"{self.base_url}/users/{login}"
        return {"login": login, "id": sum(map(ord, login)), "node_id": f"U_{login}",
                "avatar_url": f"{HTML}/{login}.png", "url": api, "html_url": f"{HTML}/{login}",
                "repos_url": f"{api}/repos", "type": "User", "site_admin": False}  # fmt: skip

    def repo_json(self, repo: Repo) -> Json:
        api = f"{self.base_url}/repos/{repo.full_name}"
        return {"id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name,
                "full_name": repo.full_name, "owner": self.user_json(repo.owner),
                "private": False, "html_url": f"{HTML}/{repo.full_name}", "description": None,
                "fork": False, "url": api, "issues_url": f"{api}/issues{{/number}}",
                "pulls_url": f"{api}/pulls{{/number}}", "default_branch": "main",
                "created_at": "2011-01-26T19:01:12Z", "updated_at": "2024-05-03T11:00:00Z",
                "pushed_at": "2024-05-03T11:00:00Z"}  # fmt: skip

    def label_json(self, repo: Repo, label: Json) -> Json:
        url = f"{self.base_url}/repos/{repo.full_name}/labels/{label['name']}"
        return {**label, "url": url, "node_id": f"L_{label['id']}", "default": False}

    def labels_of(self, repo: Repo, names: list[str]) -> list[Json]:
        by_name = {lab["name"]: lab for lab in repo.labels}
        return [self.label_json(repo, by_name[n]) for n in names if n in by_name]

    def issue_json(self, repo: Repo, item: Item) -> Json:
        api = f"{self.base_url}/repos/{repo.full_name}"
        kind = "pull" if item.head else "issues"
        data = {
            "id": repo.id * 1000 + item.number, "node_id": f"I_{repo.id}_{item.number}",
            "url": f"{api}/issues/{item.number}", "repository_url": api,
            "labels_url": f"{api}/issues/{item.number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{item.number}/comments",
            "events_url": f"{api}/issues/{item.number}/events",
            "html_url": f"{HTML}/{repo.full_name}/{kind}/{item.number}",
            "number": item.number, "state": item.state,
            "state_reason": "completed" if item.state == "closed" else None,
            "title": item.title, "body": item.body or None, "user": self.user_json(item.user),
            "labels": self.labels_of(repo, item.labels), "assignee": None, "assignees": [],
            "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": len(repo.comments.get(item.number, [])),
            "created_at": item.created_at, "updated_at": item.updated_at or item.created_at,
            "closed_at": item.closed_at, "author_association": "OWNER",
        }  # fmt: skip
        if item.head:
            data["draft"] = item.draft
            data["pull_request"] = {
                "url": f"{api}/pulls/{item.number}",
                "html_url": data["html_url"],
                "diff_url": f"{data['html_url']}.diff",
                "patch_url": f"{data['html_url']}.patch",
                "merged_at": item.merged_at,
            }
        return data

    def pull_json(self, repo: Repo, item: Item, *, full: bool) -> Json:
        api = f"{self.base_url}/repos/{repo.full_name}"
        html = f"{HTML}/{repo.full_name}/pull/{item.number}"

        def part(ref: str, sha: str) -> Json:
            return {"label": f"{repo.owner}:{ref}", "ref": ref, "sha": sha,
                    "user": self.user_json(repo.owner), "repo": self.repo_json(repo)}  # fmt: skip

        data = {
            "url": f"{api}/pulls/{item.number}", "id": repo.id * 1000 + item.number,
            "node_id": f"PR_{repo.id}_{item.number}", "html_url": html,
            "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{item.number}", "number": item.number,
            "state": item.state, "locked": False, "title": item.title,
            "user": self.user_json(item.user), "body": item.body or None,
            "labels": self.labels_of(repo, item.labels), "milestone": None,
            "created_at": item.created_at, "updated_at": item.updated_at or item.created_at,
            "closed_at": item.closed_at, "merged_at": item.merged_at,
            "merge_commit_sha": None, "assignee": None, "assignees": [],
            "requested_reviewers": [self.user_json(u) for u in item.requested_reviewers],
            "requested_teams": [], "head": part(item.head or "", item.head_sha),
            "base": part(item.base, "0" * 40), "author_association": "CONTRIBUTOR",
            "auto_merge": None, "draft": item.draft,
            "statuses_url": f"{api}/statuses/{item.head_sha}",
        }  # fmt: skip
        if full:
            # Only the single-PR endpoint computes these, as on GitHub.
            merged = item.merged_at is not None
            data.update({
                "merged": merged, "mergeable": None if merged else item.mergeable,
                "rebaseable": item.mergeable, "mergeable_state": "unknown" if merged else "clean",
                "merged_by": self.user_json("octocat") if merged else None,
                "comments": len(repo.comments.get(item.number, [])), "review_comments": 0,
                "maintainer_can_modify": False, "commits": 1, "additions": 3, "deletions": 1,
                "changed_files": 1,
            })  # fmt: skip
        return data

    def comment_json(self, repo: Repo, number: int, comment: Json) -> Json:
        api = f"{self.base_url}/repos/{repo.full_name}"
        kind = "pull" if repo.items[number].head else "issues"
        return {"id": comment["id"], "node_id": f"IC_{comment['id']}",
                "url": f"{api}/issues/comments/{comment['id']}",
                "html_url": f"{HTML}/{repo.full_name}/{kind}/{number}#issuecomment-{comment['id']}",
                "body": comment["body"], "user": self.user_json(comment["user"]),
                "created_at": comment["created_at"], "updated_at": comment["created_at"],
                "issue_url": f"{api}/issues/{number}",
                "author_association": "CONTRIBUTOR"}  # fmt: skip

    def review_json(self, repo: Repo, number: int, review: Json) -> Json:
        html = f"{HTML}/{repo.full_name}/pull/{number}"
        return {"id": review["id"], "node_id": f"PRR_{review['id']}",
                "user": self.user_json(review["user"]), "body": review["body"],
                "state": review["state"], "html_url": f"{html}#pullrequestreview-{review['id']}",
                "pull_request_url": f"{self.base_url}/repos/{repo.full_name}/pulls/{number}",
                "submitted_at": review["submitted_at"], "commit_id": PR_SHA,
                "author_association": "CONTRIBUTOR"}  # fmt: skip

    def run_json(self, repo: Repo, run: Json) -> Json:
        api = f"{self.base_url}/repos/{repo.full_name}/actions/runs/{run['id']}"
        return {**run, "node_id": f"WFR_{run['id']}", "url": api,
                "html_url": f"{HTML}/{repo.full_name}/actions/runs/{run['id']}",
                "head_sha": PR_SHA, "path": ".github/workflows/ci.yml", "run_attempt": 1,
                "workflow_id": 161335, "check_suite_id": 42, "pull_requests": [],
                "updated_at": run["created_at"], "run_started_at": run["created_at"],
                "jobs_url": f"{api}/jobs", "logs_url": f"{api}/logs",
                "actor": self.user_json("octocat"), "triggering_actor": self.user_json("octocat"),
                "repository": self.repo_json(repo), "head_repository": self.repo_json(repo),
                "head_commit": {"id": PR_SHA, "tree_id": "1" * 40, "message": run["display_title"],
                                "timestamp": run["created_at"]}}  # fmt: skip

    def thread_json(self, thread: Json) -> Json:
        repo = self.repos[thread["repo"]]
        api = f"{self.base_url}/repos/{repo.full_name}"
        thread_url = f"{self.base_url}/notifications/threads/{thread['id']}"
        return {"id": thread["id"], "repository": self.repo_json(repo),
                "subject": {"title": thread["title"], "url": f"{api}/{thread['path']}",
                            "latest_comment_url": f"{api}/{thread['path']}",
                            "type": thread["type"]},
                "reason": thread["reason"], "unread": thread["unread"],
                "updated_at": thread["updated_at"], "last_read_at": None,
                "url": thread_url, "subscription_url": f"{thread_url}/subscription"}  # fmt: skip

    # -- request handling -------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return _wire((401, {"message": "Bad credentials"}, {}))
        parts = urlsplit(request.target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        payload = json.loads(request.body) if request.body else None
        for verb, pattern, route in ROUTES:
            match = pattern.fullmatch(parts.path)
            if match and verb == request.method:
                return _wire(route(self, match, query, payload))
        return _wire((404, {"message": "Not Found"}, {}))

    def find_repo(self, match: re.Match[str]) -> Repo | None:
        # GitHub matches owner and repository names case-insensitively.
        return self.repos.get(f"{match['owner']}/{match['name']}".lower())

    def page(
        self, path: str, query: dict[str, str], items: list[Json], envelope: str | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 30)), 100)
        number = int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        chosen = items[(number - 1) * per_page : number * per_page]
        links = []
        for rel, target in (("prev", number - 1), ("next", number + 1), ("last", last)):
            if 1 <= target <= last and target != number:
                params = urlencode({**query, "page": target})
                links.append(f'<{self.base_url}{path}?{params}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        if envelope is None:
            return 200, chosen, headers
        return 200, {"total_count": len(items), envelope: chosen}, headers


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo home's GitHub (octocat/Hello-World with open issues and a pull request under
    review) on 127.0.0.1 while the block runs; yields the server's settings that reach it.
    ``state_dir`` is unused: the fake keeps all in memory."""
    with FakeGitHub() as fake:
        yield {
            "ANGIE_GITHUB_API_TOKEN": fake.token,
            "ANGIE_GITHUB_API_URL": fake.base_url,
            "ANGIE_GITHUB_DEFAULT_REPO": "octocat/Hello-World",
        }


def _label(id_: int, name: str, color: str, description: str) -> Json:
    return {"id": id_, "name": name, "color": color, "description": description}


def _status(id_: int, context: str, state: str, description: str) -> Json:
    return {"id": id_, "node_id": f"S_{id_}", "context": context, "state": state,
            "description": description, "target_url": f"https://ci.example/{id_}",
            "avatar_url": None, "url": f"https://ci.example/status/{id_}",
            "created_at": "2024-05-02T09:30:00Z", "updated_at": "2024-05-02T09:30:00Z"}  # fmt: skip


def _check_run(id_: int, name: str, status: str, conclusion: str | None) -> Json:
    return {"id": id_, "name": name, "status": status, "conclusion": conclusion,
            "head_sha": PR_SHA, "node_id": f"CR_{id_}", "external_id": str(id_),
            "html_url": f"{HTML}/octocat/Hello-World/runs/{id_}",
            "details_url": f"{HTML}/octocat/Hello-World/runs/{id_}",
            "started_at": "2024-05-02T09:10:00Z",
            "completed_at": "2024-05-02T09:20:00Z" if status == "completed" else None,
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
            "check_suite": {"id": 42}, "pull_requests": []}  # fmt: skip


def _run(id_: int, name: str, title: str, number: int, branch: str, event: str, status: str,
         conclusion: str | None, created: str) -> Json:  # fmt: skip
    return {"id": id_, "name": name, "display_title": title, "run_number": number,
            "head_branch": branch, "event": event, "status": status, "conclusion": conclusion,
            "created_at": created}  # fmt: skip


def _thread(id_: str, repo: Repo, title: str, type_: str, path: str, reason: str, unread: bool,
            at: str) -> Json:  # fmt: skip
    return {"id": id_, "repo": repo.full_name.lower(), "title": title, "type": type_,
            "path": path, "reason": reason, "unread": unread, "updated_at": at}  # fmt: skip


# -- routes ---------------------------------------------------------------------------------------

Answer = tuple[int, Any, dict[str, str]]
NOT_FOUND: Answer = (404, {"message": "Not Found"}, {})


def _get_user(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    headers = {"X-OAuth-Scopes": "repo, notifications"}
    if fake.enterprise_version:
        headers["X-GitHub-Enterprise-Version"] = fake.enterprise_version
    return 200, fake.user_json(fake.login), headers


def _user_repos(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    return fake.page("/user/repos", q, [fake.repo_json(r) for r in fake.repos.values()])


def _notifications(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m) if m.groupdict().get("owner") else None
    if m.groupdict().get("owner") and repo is None:
        return NOT_FOUND
    include_read = q.get("all") == "true"
    threads = [
        fake.thread_json(t)
        for t in sorted(fake.notifications, key=lambda t: t["updated_at"], reverse=True)
        if (include_read or t["unread"]) and (repo is None or t["repo"] == repo.full_name.lower())
    ]
    return fake.page(m.group(0), q, threads)


def _search(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    text = q.get("q", "").strip()
    if not text:
        error = {"resource": "Search", "field": "q", "code": "missing"}
        return 422, {"message": "Validation Failed", "errors": [error]}, {}
    found = []
    for repo in fake.repos.values():
        for item in sorted(repo.items.values(), key=lambda i: i.number, reverse=True):
            if _matches(repo, item, shlex.split(text)):
                found.append({**fake.issue_json(repo, item), "score": 1.0})
    status, data, headers = fake.page("/search/issues", q, found, "items")
    data["incomplete_results"] = False
    return status, data, headers


def _matches(repo: Repo, item: Item, terms: list[str]) -> bool:
    return all(_term_matches(repo, item, term) for term in terms)


def _term_matches(repo: Repo, item: Item, term: str) -> bool:
    key, colon, value = term.lower().partition(":")
    kinds = {"issue": not item.head, "pr": bool(item.head)}
    match key if colon else "text":
        case "repo":
            return value == repo.full_name.lower()
        case "is":
            return kinds.get(value, item.state == value)
        case "type":
            return kinds.get(value, False)
        case "state":
            return item.state == value
        case "label":
            return value in [label.lower() for label in item.labels]
        case "author":
            return item.user.lower() == value
        case "text":
            return term.lower() in f"{item.title} {item.body}".lower()
    return True  # qualifiers the fake does not know (sort:, in:, …) filter nothing


def _get_repo(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    return (200, fake.repo_json(repo), {}) if repo else NOT_FOUND


def _list_issues(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    state = q.get("state", "open")
    items = sorted(repo.items.values(), key=lambda i: i.created_at, reverse=True)
    chosen = [fake.issue_json(repo, i) for i in items if state in ("all", i.state)]
    return fake.page(m.group(0), q, chosen)


def _create_issue(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    if not isinstance(p, dict) or not p.get("title"):
        error = {"resource": "Issue", "field": "title", "code": "missing_field"}
        return 422, {"message": "Validation Failed", "errors": [error]}, {}
    names = []
    by_lower = {lab["name"].lower(): lab["name"] for lab in repo.labels}
    for name in p.get("labels", []):
        if name.lower() not in by_lower:
            # GitHub creates labels it does not know yet.
            repo.labels.append(_label(len(repo.labels) + 1, name, "ededed", ""))
            by_lower[name.lower()] = name
        names.append(by_lower[name.lower()])
    number = max(repo.items, default=0) + 1
    at = now()
    repo.items[number] = Item(
        number, p["title"], fake.login, at, p.get("body") or "", labels=names, updated_at=at
    )
    return 201, fake.issue_json(repo, repo.items[number]), {}


def _get_issue(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    item = repo.items.get(int(m["number"])) if repo else None
    return (200, fake.issue_json(repo, item), {}) if repo and item else NOT_FOUND


def _comments(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    number = int(m["number"])
    if repo is None or number not in repo.items:
        return NOT_FOUND
    comments = repo.comments.get(number, [])
    return fake.page(m.group(0), q, [fake.comment_json(repo, number, c) for c in comments])


def _add_comment(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    number = int(m["number"])
    if repo is None or number not in repo.items:
        return NOT_FOUND
    if not isinstance(p, dict) or not p.get("body"):
        return 422, {"message": "Validation Failed"}, {}
    comment = fake._comment(fake.login, p["body"], now())
    repo.comments.setdefault(number, []).append(comment)
    repo.items[number].updated_at = comment["created_at"]
    return 201, fake.comment_json(repo, number, comment), {}


def _labels(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    return fake.page(m.group(0), q, [fake.label_json(repo, lab) for lab in repo.labels])


def _list_pulls(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    state = q.get("state", "open")
    items = sorted(repo.items.values(), key=lambda i: i.created_at, reverse=True)
    chosen = [
        fake.pull_json(repo, i, full=False) for i in items if i.head and state in ("all", i.state)
    ]
    return fake.page(m.group(0), q, chosen)


def _get_pull(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    item = repo.items.get(int(m["number"])) if repo else None
    if repo is None or item is None or not item.head:
        return NOT_FOUND
    return 200, fake.pull_json(repo, item, full=True), {}


def _reviews(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    number = int(m["number"])
    item = repo.items.get(number) if repo else None
    if repo is None or item is None or not item.head:
        return NOT_FOUND
    reviews = [fake.review_json(repo, number, r) for r in repo.reviews.get(number, [])]
    return fake.page(m.group(0), q, reviews)


def _combined_status(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    statuses = repo.statuses.get(m["sha"], [])
    states = {s["state"] for s in statuses}
    # GitHub says "pending" when a commit has no statuses at all.
    state = next((s for s in ("failure", "error", "pending") if s in states), "success")
    api = f"{fake.base_url}/repos/{repo.full_name}"
    return 200, {"state": state if statuses else "pending", "statuses": statuses,
                 "sha": m["sha"], "total_count": len(statuses),
                 "repository": fake.repo_json(repo), "commit_url": f"{api}/commits/{m['sha']}",
                 "url": f"{api}/commits/{m['sha']}/status"}, {}  # fmt: skip


def _check_runs(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    return fake.page(m.group(0), q, repo.check_runs.get(m["sha"], []), "check_runs")


def _runs(fake: FakeGitHub, m: re.Match[str], q: dict[str, str], p: Any) -> Answer:
    repo = fake.find_repo(m)
    if repo is None:
        return NOT_FOUND
    runs = [
        fake.run_json(repo, r)
        for r in sorted(repo.runs, key=lambda r: r["created_at"], reverse=True)
        if q.get("branch") in (None, r["head_branch"])
        and q.get("status") in (None, r["status"], r["conclusion"])
    ]
    return fake.page(m.group(0), q, runs, "workflow_runs")


_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = [
    (verb, re.compile(pattern), route)
    for verb, pattern, route in [
        ("GET", r"/user", _get_user),
        ("GET", r"/user/repos", _user_repos),
        ("GET", r"/notifications", _notifications),
        ("GET", r"/search/issues", _search),
        ("GET", _REPO, _get_repo),
        ("GET", _REPO + r"/notifications", _notifications),
        ("GET", _REPO + r"/issues", _list_issues),
        ("POST", _REPO + r"/issues", _create_issue),
        ("GET", _REPO + r"/issues/(?P<number>\d+)", _get_issue),
        ("GET", _REPO + r"/issues/(?P<number>\d+)/comments", _comments),
        ("POST", _REPO + r"/issues/(?P<number>\d+)/comments", _add_comment),
        ("GET", _REPO + r"/labels", _labels),
        ("GET", _REPO + r"/pulls", _list_pulls),
        ("GET", _REPO + r"/pulls/(?P<number>\d+)", _get_pull),
        ("GET", _REPO + r"/pulls/(?P<number>\d+)/reviews", _reviews),
        ("GET", _REPO + r"/commits/(?P<sha>\w+)/status", _combined_status),
        ("GET", _REPO + r"/commits/(?P<sha>\w+)/check-runs", _check_runs),
        ("GET", _REPO + r"/actions/runs", _runs),
    ]
]


def _wire(answer: Answer) -> Reply:
    """GitHub's JSON answer with the rate-limit headers it sends on every response."""
    status, data, extra = answer
    headers = {
        "content-type": "application/json; charset=utf-8",
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
    }
    headers.update({k.lower(): v for k, v in extra.items()})
    return Reply(status, json.dumps(data).encode() if data is not None else b"", headers)
