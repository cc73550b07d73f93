"""GitHub through PyGithub: notifications, issues, pull requests, checks and workflow runs.

Every method is blocking and makes a small, fixed number of requests; vendor errors leave it as
the kit's errors (``angie_mcp_core.errors``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

import github
import requests
from github.GithubException import (
    BadAttributeException,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.Issue import Issue
from github.PullRequest import PullRequest
from github.PullRequestReview import PullRequestReview
from github.Repository import Repository

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
    from_status,
    parse_retry_after,
)
from angie_mcp_core.vendor import Rule, VendorClient, translated
from angie_mcp_github import conversions as convert
from angie_mcp_github.models import (
    Comment,
    IssueDetails,
    IssueSummary,
    Notification,
    PullRequestChecks,
    PullRequestSummary,
    WorkflowRun,
)
from angie_mcp_github.settings import REPO_NAME, GitHubSettings

__all__ = ("SERVICE", "GitHubClient")

SERVICE = "GitHub"
MAX_LIMIT = 100
# The page size: with it every `limit` up to MAX_LIMIT costs exactly one request.
PER_PAGE = 100
# Lists that need filtering or the newest entries read at most this many items (3 pages).
MAX_SCAN = 300
MAX_TITLE = 256
MAX_BODY = 65536
ISSUE_STATES = ("open", "closed", "all")
RUN_STATUSES = (
    "action_required",
    "cancelled",
    "completed",
    "failure",
    "in_progress",
    "neutral",
    "pending",
    "queued",
    "requested",
    "skipped",
    "stale",
    "success",
    "timed_out",
    "waiting",
)


class GitHubClient(VendorClient):
    """One authenticated PyGithub session; close it (or use ``with``) when done.

    PyGithub's own retries and request throttling are off, so rate limits and 5xx fail at once.
    Objects are lazy: only fields GitHub returns in each response are read, so nothing triggers
    a hidden extra request.
    """

    def __init__(self, settings: GitHubSettings, *, api_url: str | None = None) -> None:
        self._settings = settings
        self._api_url = (api_url or settings.api_url).rstrip("/")
        self._timeout = settings.timeout
        self._gh: github.Github | None = None
        if settings.api_token is not None and settings.api_token.get_secret_value():
            self._gh = github.Github(
                auth=github.Auth.Token(settings.api_token.get_secret_value()),
                base_url=self._api_url,
                # PyGithub wants whole seconds; call_blocking enforces the precise deadline.
                timeout=max(1, math.ceil(settings.timeout)),
                user_agent="angie-mcp-github",
                per_page=PER_PAGE,
                retry=None,
                seconds_between_requests=None,
                seconds_between_writes=None,
                lazy=True,
            )

    def close(self) -> None:
        if self._gh is not None:
            self._gh.close()

    # -- operations ---------------------------------------------------------------------------

    def probe(self) -> str:
        """Which GitHub answers and whom the token belongs to; raises when unreachable."""
        gh = self._github()
        headers, data = self._run(lambda: gh.requester.requestJsonAndCheck("GET", "/user"))
        version = headers.get("x-github-enterprise-version")
        product = f"GitHub Enterprise Server {version}" if version else "GitHub"
        return f"{product} at {self._api_url}, authenticated as {data.get('login', '?')}"

    def notifications(
        self, *, include_read: bool = False, repo: str | None = None, limit: int = 20
    ) -> list[Notification]:
        """The user's notification threads, newest first; unread only unless ``include_read``."""
        _check_limit(limit)
        full = self._repo_name(repo) if repo is not None else None
        gh = self._github()

        def fetch() -> list[Notification]:
            source = gh.get_repo(full) if full else gh.get_user()
            threads = source.get_notifications(all=include_read)
            return [convert.notification(n) for n in islice(threads, limit)]

        return self._run(fetch, repo=full)

    def search_issues(self, query: str, *, limit: int = 20) -> list[IssueSummary]:
        """Issues and pull requests matching GitHub search syntax (``repo:o/n is:pr is:open``)."""
        query = query.strip()
        if not query:
            raise InvalidArgumentError("The search query is empty.")
        if len(query) > 1000:
            raise InvalidArgumentError("The search query is longer than 1000 characters.")
        _check_limit(limit)
        gh = self._github()
        return self._run(
            lambda: [convert.issue_summary(i) for i in islice(gh.search_issues(query), limit)]
        )

    def list_issues(
        self, *, repo: str | None = None, state: str = "open", limit: int = 20
    ) -> list[IssueSummary]:
        """A repository's issues (pull requests excluded), newest first."""
        state = _check_state(state)
        _check_limit(limit)
        full = self._repo_name(repo)
        repository = self._repository(full)

        def fetch() -> list[IssueSummary]:
            found = (i for i in islice(repository.get_issues(state=state), MAX_SCAN))
            # GitHub lists pull requests among issues; MAX_SCAN bounds the pages this reads.
            return [
                convert.issue_summary(i)
                for i in islice((i for i in found if not convert.is_pull_request(i)), limit)
            ]

        return self._run(fetch, repo=full)

    def list_pull_requests(
        self, *, repo: str | None = None, state: str = "open", limit: int = 20
    ) -> list[PullRequestSummary]:
        """A repository's pull requests, newest first."""
        state = _check_state(state)
        _check_limit(limit)
        full = self._repo_name(repo)
        repository = self._repository(full)
        return self._run(
            lambda: [
                convert.pull_summary(p) for p in islice(repository.get_pulls(state=state), limit)
            ],
            repo=full,
        )

    def get_issue(
        self, number: int, *, repo: str | None = None, comments: int = 10
    ) -> IssueDetails:
        """One issue or pull request with its latest ``comments`` comments and, for a PR, its
        merge and review state (at most five requests)."""
        _check_number(number)
        if not 0 <= comments <= MAX_LIMIT:
            raise InvalidArgumentError(f"comments must be between 0 and {MAX_LIMIT}.")
        full = self._repo_name(repo)
        repository = self._repository(full)

        def fetch() -> IssueDetails:
            issue = repository.get_issue(number)
            summary = convert.issue_summary(issue)
            info = None
            if summary.is_pull_request:
                pr = repository.get_pull(number)
                info = convert.pull_info(pr, _review_list(pr))
            return IssueDetails(
                **summary.model_dump(),
                body=issue.body or "",
                recent_comments=_latest_comments(issue, comments),
                pull_request=info,
            )

        return self._run(fetch, repo=full, number=number)

    def create_issue(
        self, title: str, *, repo: str | None = None, body: str = "", labels: Sequence[str] = ()
    ) -> IssueSummary:
        """Open an issue; ``labels`` must exist in the repository (matched case-insensitively)."""
        title = title.strip()
        if not 1 <= len(title) <= MAX_TITLE:
            raise InvalidArgumentError(f"The title must be 1 to {MAX_TITLE} characters.")
        if len(body) > MAX_BODY:
            raise InvalidArgumentError(f"The body is longer than {MAX_BODY} characters.")
        full = self._repo_name(repo)
        repository = self._repository(full)

        def create() -> IssueSummary:
            names = self._resolve_labels(repository, labels) if labels else []
            issue = repository.create_issue(
                title, body=body or github.GithubObject.NotSet, labels=names
            )
            return convert.issue_summary(issue)

        return self._run(create, repo=full)

    def comment(self, number: int, body: str, *, repo: str | None = None) -> Comment:
        """Add a conversation comment to an issue or pull request."""
        _check_number(number)
        if not body.strip():
            raise InvalidArgumentError("The comment is empty.")
        if len(body) > MAX_BODY:
            raise InvalidArgumentError(f"The comment is longer than {MAX_BODY} characters.")
        full = self._repo_name(repo)
        repository = self._repository(full)
        return self._run(
            lambda: convert.comment(repository.get_issue(number).create_comment(body)),
            repo=full,
            number=number,
        )

    def pull_request_checks(self, number: int, *, repo: str | None = None) -> PullRequestChecks:
        """Reviews, commit statuses and check runs of a pull request's head commit."""
        _check_number(number)
        full = self._repo_name(repo)
        repository = self._repository(full)

        def fetch() -> PullRequestChecks:
            pr = repository.get_pull(number)
            sha = pr.head.sha
            reviews = _review_list(pr)
            commit = repository.get_commit(sha)
            combined = commit.get_combined_status()
            statuses = [convert.commit_status(s) for s in combined.statuses]
            runs = [convert.check_run(c) for c in islice(commit.get_check_runs(), MAX_LIMIT)]
            return PullRequestChecks(
                repo=full,
                number=number,
                head_sha=sha,
                review_decision=convert.review_decision(
                    reviews, convert.logins(pr.requested_reviewers)
                ),
                reviews=[convert.review(r) for r in reviews],
                overall=convert.overall(statuses, runs),
                statuses=statuses,
                check_runs=runs,
            )

        return self._run(fetch, repo=full, number=number, kind="pull request")

    def workflow_runs(
        self,
        *,
        repo: str | None = None,
        branch: str | None = None,
        status: str | None = None,
        limit: int = 20,
    ) -> list[WorkflowRun]:
        """Recent GitHub Actions runs, newest first, optionally of one branch or status."""
        _check_limit(limit)
        params: dict[str, Any] = {}
        if branch is not None:
            if not branch.strip():
                raise InvalidArgumentError("The branch name is empty.")
            params["branch"] = branch.strip()
        if status is not None:
            status = status.strip().lower()
            if status not in RUN_STATUSES:
                known = ", ".join(RUN_STATUSES)
                raise InvalidArgumentError(f"Unknown run status {status!r}; use one of {known}.")
            params["status"] = status
        full = self._repo_name(repo)
        repository = self._repository(full)
        return self._run(
            lambda: [
                convert.workflow_run(r)
                for r in islice(repository.get_workflow_runs(**params), limit)
            ],
            repo=full,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _github(self) -> github.Github:
        if self._gh is None:
            raise NotConfiguredError(
                SERVICE, self._settings.missing(), "Use a personal access token from GitHub."
            )
        return self._gh

    def _repository(self, full: str) -> Repository:
        # Lazy: no request until an operation on it.
        return self._github().get_repo(full)

    def _repo_name(self, repo: str | None) -> str:
        if repo is None or not repo.strip():
            if self._settings.default_repo:
                return self._settings.default_repo
            raise InvalidArgumentError(
                "No repository given: pass repo as 'owner/name' or set "
                f"{self._settings.env_name('default_repo')}."
            )
        repo = repo.strip().removeprefix("https://github.com/").removesuffix(".git")
        if not REPO_NAME.match(repo):
            raise InvalidArgumentError(f"Repository {repo!r} is not of the form 'owner/name'.")
        return repo

    def _resolve_labels(self, repository: Repository, wanted: Iterable[str]) -> list[str]:
        # GitHub silently creates unknown labels; a typo must not add one to the user's repo.
        known = {
            label.name.lower(): label.name for label in islice(repository.get_labels(), MAX_SCAN)
        }
        names = []
        for name in wanted:
            match = known.get(name.strip().lower())
            if match is None:
                raise NotFoundError("label", name, known.values())
            names.append(match)
        return names

    def _run[T](
        self,
        action: Callable[[], T],
        *,
        repo: str | None = None,
        number: int | None = None,
        kind: str = "issue or pull request",
    ) -> T:
        def from_github(err: GithubException) -> ServerToolError:
            if err.status == 404 and repo is not None:
                return self._not_found(repo, number, kind, err)
            return self._translate(err)

        def from_redirect(err: RuntimeError) -> ServerToolError | None:
            # PyGithub refuses redirects to another host or path: a wrong API URL.
            if "redirected" not in str(err):
                return None
            hint = f"it redirected the request; check {self._settings.env_name('api_url')}"
            return UpstreamError(SERVICE, hint)

        rules: list[Rule] = [
            (GithubException, from_github),
            (requests.Timeout, lambda _: UpstreamTimeoutError(SERVICE, self._timeout)),
            (
                requests.RequestException,
                lambda err: UpstreamError(
                    SERVICE, f"cannot reach {self._api_url} ({type(err).__name__})"
                ),
            ),
            (
                (BadAttributeException, json.JSONDecodeError),
                lambda _: UpstreamError(SERVICE, "it sent a response Angie could not read"),
            ),
            (RuntimeError, from_redirect),
        ]
        with translated(rules):
            return action()

    def _not_found(
        self, repo: str, number: int | None, kind: str, err: GithubException
    ) -> ServerToolError:
        """Tell a missing repository (with close names) from a missing issue (≤ 2 requests)."""
        requester = self._github().requester
        try:
            requester.requestJsonAndCheck("GET", f"/repos/{repo}")
        except UnknownObjectException:
            return NotFoundError("repository", repo, self._known_repos())
        except (GithubException, requests.RequestException):
            pass
        if number is not None:
            return NotFoundError(kind, f"{repo}#{number}")
        return self._translate(err)

    def _known_repos(self) -> list[str]:
        try:
            repos = self._github().get_user().get_repos(sort="pushed")
            return [r.full_name for r in islice(repos, PER_PAGE)]
        except (GithubException, requests.RequestException):
            return []

    def _translate(self, err: GithubException) -> ServerToolError:
        headers = {k.lower(): str(v) for k, v in (err.headers or {}).items()}
        detail = _detail(err.data)
        limited = isinstance(err, RateLimitExceededException) or (
            err.status == 403
            and (headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers)
        )
        if err.status == 429 or limited:
            return RateLimitedError(SERVICE, _retry_after(headers))
        token_env = self._settings.env_name("api_token")
        if err.status == 401:
            return UnauthorizedError(
                SERVICE, f"Set {token_env} to a valid personal access token (it may have expired)."
            )
        if err.status == 403:
            return UnauthorizedError(
                SERVICE,
                f"The token in {token_env} may not do this ({detail or 'forbidden'}); give it "
                "the needed scopes (repo, notifications, workflow) or repository access.",
            )
        return from_status(SERVICE, err.status, detail)


# -- validation ---------------------------------------------------------------------------------


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgumentError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}.")


def _check_number(number: int) -> None:
    if not 1 <= number < 2**31:
        raise InvalidArgumentError(f"{number} is not an issue or pull request number.")


def _check_state(state: str) -> str:
    state = state.strip().lower()
    if state not in ISSUE_STATES:
        raise InvalidArgumentError(
            f"state must be one of {', '.join(ISSUE_STATES)}, not {state!r}."
        )
    return state


# -- error details and paging ------------------------------------------------------------------


def _detail(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    message = str(data.get("message") or "")
    errors = data.get("errors")
    if isinstance(errors, list):
        extra = [str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)]
        message = "; ".join([message, *extra]) if message else "; ".join(extra)
    return message


def _retry_after(headers: dict[str, str]) -> float | None:
    if "retry-after" in headers:
        seconds = parse_retry_after(headers["retry-after"])
        return None if seconds is None else max(1.0, seconds)
    try:
        if "x-ratelimit-reset" in headers:
            return float(max(1, math.ceil(float(headers["x-ratelimit-reset"]) - time.time())))
    except ValueError:
        return None
    return None


def _latest_comments(issue: Issue, wanted: int) -> list[Comment]:
    """The newest ``wanted`` comments: GitHub lists oldest first, so read the last page(s)."""
    if wanted == 0 or issue.comments == 0:
        return []
    pages = issue.get_comments()
    last = (issue.comments - 1) // PER_PAGE
    found = pages.get_page(last)
    if len(found) < wanted and last > 0:
        found = pages.get_page(last - 1) + found
    return [convert.comment(c) for c in found[-wanted:]]


def _review_list(pr: PullRequest) -> list[PullRequestReview]:
    return list(islice(pr.get_reviews(), MAX_SCAN))
