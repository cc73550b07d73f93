"""The GitHub client through the real PyGithub against the fake GitHub API on loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest
from angie_mcp_github.client import GitHubClient
from angie_mcp_github.settings import GitHubSettings
from pydantic import SecretStr, ValidationError

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
)

HELLO = "octocat/Hello-World"


def settings_for(base: GitHubSettings, **changes: Any) -> GitHubSettings:
    return base.model_copy(update=changes)


def assert_no_secret(err: BaseException, token: str) -> None:
    assert token not in str(err)
    assert token not in repr(err.args)


# -- happy paths --------------------------------------------------------------------------------


def test_probe_names_the_authenticated_user(client: GitHubClient, fake_github: Any) -> None:
    identity = client.probe()

    assert "octocat" in identity
    assert fake_github.base_url in identity


def test_probe_names_the_enterprise_server_version(client: GitHubClient, fake_github: Any) -> None:
    fake_github.enterprise_version = "3.14.2"

    assert client.probe().startswith("GitHub Enterprise Server 3.14.2 at ")


def test_notifications_lists_unread_threads_newest_first(
    client: GitHubClient, fake_github: Any
) -> None:
    threads = client.notifications()

    assert [(t.repo, t.title, t.type, t.reason) for t in threads] == [
        (HELLO, "Add a greeting", "PullRequest", "review_requested"),
        (HELLO, "Found a bug", "Issue", "mention"),
    ]
    assert threads[0].url == "https://github.com/octocat/Hello-World/pull/2"
    assert threads[1].url == "https://github.com/octocat/Hello-World/issues/1"
    assert all(t.unread for t in threads)
    assert fake_github.paths() == ["/notifications"]


def test_notifications_include_read_adds_read_threads(client: GitHubClient) -> None:
    threads = client.notifications(include_read=True)

    release = threads[-1]
    assert len(threads) == 3
    assert (release.title, release.unread) == ("v2.0", False)
    assert release.url == "https://github.com/octocat/Spoon-Knife"


def test_notifications_of_one_repository(client: GitHubClient, fake_github: Any) -> None:
    threads = client.notifications(include_read=True, repo="octocat/spoon-knife", limit=5)

    assert [t.title for t in threads] == ["v2.0"]
    assert fake_github.paths() == ["/repos/octocat/spoon-knife/notifications"]


def test_search_issues_uses_github_query_syntax(client: GitHubClient, fake_github: Any) -> None:
    found = client.search_issues("repo:octocat/Hello-World is:issue is:open")

    assert [(i.repo, i.number, i.is_pull_request) for i in found] == [
        (HELLO, 5, False),
        (HELLO, 1, False),
    ]
    assert fake_github.paths() == ["/search/issues"]


def test_search_issues_finds_pull_requests_by_text(client: GitHubClient) -> None:
    found = client.search_issues("greeting is:pr")

    assert [(i.number, i.is_pull_request, i.author) for i in found] == [(2, True, "bob")]


def test_list_issues_leaves_out_pull_requests(client: GitHubClient, fake_github: Any) -> None:
    issues = client.list_issues(repo=HELLO)

    assert [i.number for i in issues] == [5, 1]
    first = issues[1]
    assert (first.title, first.author, first.labels, first.comments) == (
        "Found a bug",
        "alice",
        ["bug"],
        3,
    )
    assert first.url == "https://github.com/octocat/Hello-World/issues/1"
    assert len(fake_github.requests) == 1


def test_list_issues_state_all_and_limit(client: GitHubClient) -> None:
    issues = client.list_issues(repo=HELLO, state="ALL", limit=2)

    assert [(i.number, i.state) for i in issues] == [(5, "open"), (1, "open")]
    assert [i.state for i in client.list_issues(repo=HELLO, state="closed")] == ["closed"]


def test_list_issues_accepts_repository_in_any_case(client: GitHubClient) -> None:
    issues = client.list_issues(repo="OCTOCAT/hello-world")

    assert [i.number for i in issues] == [5, 1]
    assert {i.repo for i in issues} == {HELLO}


def test_list_issues_accepts_a_repository_web_address(
    client: GitHubClient, fake_github: Any
) -> None:
    issues = client.list_issues(repo="https://github.com/octocat/Spoon-Knife.git")

    assert [i.title for i in issues] == ["Fork me"]
    assert fake_github.paths() == ["/repos/octocat/Spoon-Knife/issues"]


def test_list_issues_uses_the_default_repository(
    settings: GitHubSettings, fake_github: Any
) -> None:
    with GitHubClient(settings_for(settings, default_repo="octocat/Spoon-Knife")) as client:
        issues = client.list_issues()

    assert [(i.repo, i.title) for i in issues] == [("octocat/Spoon-Knife", "Fork me")]


def test_list_issues_follows_pagination_past_pull_requests(
    client: GitHubClient, fake_github: Any
) -> None:
    for n in range(120):
        fake_github.add_item(HELLO, f"Busy PR {n}", pull=True, created_at="2025-01-01T00:00:00Z")

    issues = client.list_issues(repo=HELLO, limit=2)

    assert [i.number for i in issues] == [5, 1]
    assert fake_github.paths() == ["/repos/octocat/Hello-World/issues"] * 2


def test_list_pull_requests_shows_branches_and_merge_state(
    client: GitHubClient, fake_github: Any
) -> None:
    pulls = client.list_pull_requests(repo=HELLO, state="all")

    assert [(p.number, p.state, p.merged, p.head, p.base) for p in pulls] == [
        (2, "open", False, "feature/greeting", "main"),
        (4, "closed", True, "fix/typo", "main"),
    ]
    assert pulls[0].url == "https://github.com/octocat/Hello-World/pull/2"
    assert len(fake_github.requests) == 1


def test_get_issue_returns_body_and_latest_comments(client: GitHubClient, fake_github: Any) -> None:
    issue = client.get_issue(1, repo=HELLO, comments=2)

    assert (issue.title, issue.body, issue.comments) == ("Found a bug", "It crashes on start.", 3)
    assert [(c.author, c.body) for c in issue.recent_comments] == [
        ("alice", "Here it is: boom."),
        ("bob", "Fixed in #2."),
    ]
    assert issue.pull_request is None
    assert fake_github.paths() == [
        "/repos/octocat/Hello-World/issues/1",
        "/repos/octocat/Hello-World/issues/1/comments",
    ]


def test_get_issue_reads_the_newest_comments_from_the_last_pages(
    client: GitHubClient, fake_github: Any
) -> None:
    for n in range(150):
        fake_github.add_comment(HELLO, 5, f"comment {n}")

    issue = client.get_issue(5, repo=HELLO, comments=60)

    bodies = [c.body for c in issue.recent_comments]
    assert bodies == [f"comment {n}" for n in range(90, 150)]
    assert len(fake_github.requests) == 3


def test_get_issue_of_a_pull_request_adds_merge_and_review_state(
    client: GitHubClient, fake_github: Any
) -> None:
    issue = client.get_issue(2, repo=HELLO)

    pr = issue.pull_request
    assert issue.is_pull_request
    assert pr is not None
    assert (pr.state, pr.merged, pr.mergeable, pr.mergeable_state) == ("open", False, True, "clean")
    assert (pr.head, pr.base, pr.head_sha) == ("feature/greeting", "main", issue_sha(fake_github))
    assert pr.requested_reviewers == ["carol"]
    # alice asked for changes, then approved: her latest verdict counts.
    assert pr.review_decision == "approved"
    assert [c.body for c in issue.recent_comments] == ["Nice!"]
    assert len(fake_github.requests) == 4


def issue_sha(fake_github: Any) -> str:
    return str(fake_github.repo(HELLO).items[2].head_sha)


def test_create_issue_persists_with_canonical_labels(
    client: GitHubClient, fake_github: Any
) -> None:
    created = client.create_issue(
        "Greeting is rude", repo=HELLO, body="It says 'go away'.", labels=["BUG", "Enhancement"]
    )

    assert (created.number, created.title, created.labels) == (
        6,
        "Greeting is rude",
        ["bug", "enhancement"],
    )
    stored = fake_github.repo(HELLO).items[6]
    assert (stored.title, stored.body, stored.labels) == (
        "Greeting is rude",
        "It says 'go away'.",
        ["bug", "enhancement"],
    )
    assert client.list_issues(repo=HELLO)[0].number == 6


def test_create_issue_without_labels_makes_one_request(
    client: GitHubClient, fake_github: Any
) -> None:
    created = client.create_issue("Just a thought", repo=HELLO)

    assert created.labels == []
    assert fake_github.requests == [("POST", "/repos/octocat/Hello-World/issues")]


def test_create_issue_rejects_an_unknown_label_suggesting_the_close_one(
    client: GitHubClient, fake_github: Any
) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'bug'"):
        client.create_issue("Typo label", repo=HELLO, labels=["bgu"])

    assert [m for m, _ in fake_github.requests] == ["GET"]
    assert len(fake_github.repo(HELLO).items) == 5


@pytest.mark.parametrize("title", ["", "   ", "x" * 257])
def test_create_issue_rejects_a_bad_title_without_a_request(
    client: GitHubClient, fake_github: Any, title: str
) -> None:
    with pytest.raises(InvalidArgumentError, match="title"):
        client.create_issue(title, repo=HELLO)

    assert fake_github.requests == []


def test_comment_is_stored_on_the_issue(client: GitHubClient, fake_github: Any) -> None:
    comment = client.comment(1, "On it.", repo="octocat/hello-world")

    assert (comment.author, comment.body) == ("octocat", "On it.")
    assert "#issuecomment-" in comment.url
    assert fake_github.repo(HELLO).comments[1][-1]["body"] == "On it."
    assert fake_github.requests == [("POST", "/repos/octocat/hello-world/issues/1/comments")]
    assert client.get_issue(1, repo=HELLO).recent_comments[-1].body == "On it."


def test_comment_rejects_an_empty_body_without_a_request(
    client: GitHubClient, fake_github: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match="empty"):
        client.comment(1, "  ", repo=HELLO)

    assert fake_github.requests == []


def test_pull_request_checks_summarise_reviews_statuses_and_check_runs(
    client: GitHubClient, fake_github: Any
) -> None:
    checks = client.pull_request_checks(2, repo=HELLO)

    assert checks.review_decision == "approved"
    assert [(r.author, r.state) for r in checks.reviews] == [
        ("alice", "CHANGES_REQUESTED"),
        ("dave", "COMMENTED"),
        ("alice", "APPROVED"),
    ]
    assert [(s.context, s.state) for s in checks.statuses] == [("ci/jenkins", "success")]
    assert [(c.name, c.status, c.conclusion) for c in checks.check_runs] == [
        ("build", "completed", "success"),
        ("lint", "in_progress", None),
    ]
    assert checks.overall == "pending"
    assert len(fake_github.requests) == 4


def test_pull_request_checks_report_failure_and_requested_changes(
    client: GitHubClient, fake_github: Any
) -> None:
    lint = fake_github.repo(HELLO).check_runs[issue_sha(fake_github)][1]
    lint.update(status="completed", conclusion="failure")
    fake_github.add_review(HELLO, 2, "erin", "CHANGES_REQUESTED")

    checks = client.pull_request_checks(2, repo=HELLO)

    assert (checks.overall, checks.review_decision) == ("failure", "changes_requested")


def test_pull_request_checks_of_an_issue_number_is_not_found(client: GitHubClient) -> None:
    with pytest.raises(NotFoundError, match="pull request named 'octocat/Hello-World#1'"):
        client.pull_request_checks(1, repo=HELLO)


def test_workflow_runs_newest_first(client: GitHubClient, fake_github: Any) -> None:
    runs = client.workflow_runs(repo=HELLO)

    assert [(r.name, r.run_number, r.status, r.conclusion, r.branch, r.event) for r in runs] == [
        ("CI", 42, "in_progress", None, "feature/greeting", "pull_request"),
        ("CI", 41, "completed", "success", "main", "push"),
        ("Release", 7, "completed", "failure", "main", "push"),
    ]
    assert runs[0].url.endswith("/actions/runs/30433642")
    assert fake_github.paths() == ["/repos/octocat/Hello-World/actions/runs"]


def test_workflow_runs_filter_by_branch_and_status_in_any_case(client: GitHubClient) -> None:
    runs = client.workflow_runs(repo=HELLO, branch="main", status="FAILURE", limit=5)

    assert [r.title for r in runs] == ["v1.0.0"]


def test_workflow_runs_reject_an_unknown_status_without_a_request(
    client: GitHubClient, fake_github: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match="in_progress"):
        client.workflow_runs(repo=HELLO, status="running")

    assert fake_github.requests == []


# -- validation before any request ----------------------------------------------------------------


@pytest.mark.parametrize("repo", ["hello", "a/b/c", "-octocat/x", "octocat/..", "octo cat/x"])
def test_malformed_repository_is_rejected_without_a_request(
    client: GitHubClient, fake_github: Any, repo: str
) -> None:
    with pytest.raises(InvalidArgumentError, match="owner/name"):
        client.list_issues(repo=repo)

    assert fake_github.requests == []


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_out_of_range_limit_is_rejected_without_a_request(
    client: GitHubClient, fake_github: Any, limit: int
) -> None:
    with pytest.raises(InvalidArgumentError, match="between 1 and 100"):
        client.list_pull_requests(repo=HELLO, limit=limit)

    assert fake_github.requests == []


@pytest.mark.parametrize("number", [0, -3])
def test_out_of_range_issue_number_is_rejected_without_a_request(
    client: GitHubClient, fake_github: Any, number: int
) -> None:
    with pytest.raises(InvalidArgumentError, match="number"):
        client.get_issue(number, repo=HELLO)

    assert fake_github.requests == []


def test_unknown_state_is_rejected_without_a_request(
    client: GitHubClient, fake_github: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match="open, closed, all"):
        client.list_issues(repo=HELLO, state="merged")

    assert fake_github.requests == []


def test_no_repository_and_no_default_names_the_setting(client: GitHubClient) -> None:
    with pytest.raises(InvalidArgumentError, match="ANGIE_GITHUB_DEFAULT_REPO"):
        client.list_issues()


def test_missing_token_is_not_configured_naming_the_variable(
    settings: GitHubSettings, fake_github: Any
) -> None:
    with (
        GitHubClient(settings_for(settings, api_token=None)) as client,
        pytest.raises(NotConfiguredError, match="ANGIE_GITHUB_API_TOKEN"),
    ):
        client.list_issues(repo=HELLO)

    assert fake_github.requests == []


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_GITHUB_API_TOKEN", "ghp_from_env")
    monkeypatch.setenv("ANGIE_GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    monkeypatch.setenv("ANGIE_GITHUB_DEFAULT_REPO", "octocat/Hello-World")

    loaded = GitHubSettings(_env_file=None)

    assert loaded.api_token is not None
    assert loaded.api_token.get_secret_value() == "ghp_from_env"
    assert loaded.api_url == "https://ghe.example.com/api/v3"
    assert loaded.default_repo == HELLO
    assert loaded.missing() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("ANGIE_GITHUB_DEFAULT_REPO", "not a repo"), ("ANGIE_GITHUB_API_URL", "api.github.com")],
)
def test_settings_reject_malformed_values(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        GitHubSettings(_env_file=None)


# -- vendor errors --------------------------------------------------------------------------------


def test_unknown_repository_suggests_the_close_name(client: GitHubClient, fake_github: Any) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'octocat/Hello-World'") as caught:
        client.list_issues(repo="octocat/Hello-Wrld")

    assert fake_github.paths() == [
        "/repos/octocat/Hello-Wrld/issues",
        "/repos/octocat/Hello-Wrld",
        "/user/repos",
    ]
    assert_no_secret(caught.value, fake_github.token)


def test_unknown_issue_number_is_not_found(client: GitHubClient) -> None:
    with pytest.raises(NotFoundError, match="'octocat/Hello-World#99'"):
        client.get_issue(99, repo=HELLO)


def test_comment_on_an_unknown_issue_is_not_found(client: GitHubClient, fake_github: Any) -> None:
    with pytest.raises(NotFoundError, match="#42"):
        client.comment(42, "Hello?", repo=HELLO)

    assert 42 not in fake_github.repo(HELLO).comments


def test_rejected_token_is_unauthorized_naming_the_variable(
    settings: GitHubSettings, fake_github: Any
) -> None:
    wrong = "ghp_wrongWRONGwrong0000000000000000000000"
    with (
        GitHubClient(settings_for(settings, api_token=SecretStr(wrong))) as client,
        pytest.raises(UnauthorizedError, match="ANGIE_GITHUB_API_TOKEN") as caught,
    ):
        client.list_issues(repo=HELLO)

    assert caught.value.status == 401
    assert_no_secret(caught.value, wrong)
    assert_no_secret(caught.value, fake_github.token)


def test_forbidden_is_unauthorized_with_githubs_reason(
    client: GitHubClient, fake_github: Any
) -> None:
    reason = "Resource not accessible by personal access token"
    fake_github.fail_next(403, body={"message": reason})

    with pytest.raises(UnauthorizedError, match=reason) as caught:
        client.create_issue("Nope", repo=HELLO)

    assert "ANGIE_GITHUB_API_TOKEN" in str(caught.value)


def test_429_is_rate_limited_with_retry_after_and_no_retry(
    client: GitHubClient, fake_github: Any
) -> None:
    fake_github.fail_next(429, times=3, headers={"Retry-After": "7"})

    with pytest.raises(RateLimitedError, match="7 seconds") as caught:
        client.list_issues(repo=HELLO)

    assert caught.value.retry_after == 7
    assert len(fake_github.requests) == 1


def test_403_with_an_exhausted_quota_is_rate_limited_until_the_reset(
    client: GitHubClient, fake_github: Any
) -> None:
    reset = str(int(time.time()) + 30)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    fake_github.fail_next(403, headers=headers)

    with pytest.raises(RateLimitedError) as caught:
        client.notifications()

    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31
    assert len(fake_github.requests) == 1, "the client retried instead of failing at once"


def test_500_is_an_upstream_error_at_once(client: GitHubClient, fake_github: Any) -> None:
    fake_github.fail_next(500, times=5)

    with pytest.raises(UpstreamError, match="HTTP 500") as caught:
        client.workflow_runs(repo=HELLO)

    assert caught.value.status == 500
    assert len(fake_github.requests) == 1


def test_injected_404_on_an_existing_issue_is_not_found(
    client: GitHubClient, fake_github: Any
) -> None:
    fake_github.fail_next(404)

    with pytest.raises(NotFoundError, match="'octocat/Hello-World#1'"):
        client.get_issue(1, repo=HELLO)


def test_422_from_search_is_an_invalid_argument_with_githubs_reason(
    client: GitHubClient, fake_github: Any
) -> None:
    reason = "The listed users cannot be searched"
    fake_github.fail_next(
        422, body={"message": "Validation Failed", "errors": [{"message": reason}]}
    )

    with pytest.raises(InvalidArgumentError, match=reason):
        client.search_issues("author:nobody-at-all")


def test_connection_refused_is_an_upstream_error(client: GitHubClient, fake_github: Any) -> None:
    fake_github.stop()

    with pytest.raises(UpstreamError, match="cannot reach") as caught:
        client.probe()

    assert_no_secret(caught.value, fake_github.token)


def test_sdk_timeout_is_an_upstream_timeout(settings: GitHubSettings, fake_github: Any) -> None:
    fake_github.delay = 3
    with (
        GitHubClient(settings_for(settings, timeout=1)) as client,
        pytest.raises(UpstreamTimeoutError),
    ):
        client.list_issues(repo=HELLO)
    fake_github.release()


async def test_slow_upstream_times_out_with_call_blocking(
    client: GitHubClient, fake_github: Any
) -> None:
    fake_github.delay = 60
    answered = fake_github.answered
    try:
        with pytest.raises(UpstreamTimeoutError, match=r"0\.3 seconds"):
            await call_blocking("GitHub", 0.3, client.list_issues, repo=HELLO)
        assert fake_github.answered == answered
    finally:
        fake_github.release()


def test_every_error_is_a_tool_error(client: GitHubClient) -> None:
    with pytest.raises(ServerToolError):
        client.search_issues("")
