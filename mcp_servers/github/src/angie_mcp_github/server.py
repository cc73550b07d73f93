"""The GitHub MCP server: notifications, issues, pull requests, checks and Actions runs as tools."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastmcp import FastMCP
from fastmcp.server.providers import Provider
from pydantic import Field

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.server import READ_ONLY, WRITE, create_server
from angie_mcp_github.client import MAX_BODY, MAX_LIMIT, MAX_TITLE, SERVICE, GitHubClient
from angie_mcp_github.models import (
    Comment,
    IssueDetails,
    IssueSummary,
    Notification,
    PullRequestChecks,
    PullRequestSummary,
    WorkflowRun,
)
from angie_mcp_github.settings import GitHubSettings

__all__ = ("build",)

INSTRUCTIONS = """\
Reads the user's GitHub: the notification inbox, issues and pull requests, their comments, \
reviews and CI checks, and GitHub Actions workflow runs; it can also open an issue and comment \
on an issue or pull request (both visible to other people: do it only when the user asked). \
Repositories are named 'owner/name'. Issues and pull requests share one numbering per \
repository, so get_issue and comment take either. For "what needs my attention" start with \
notifications; to find items across repositories use search_issues. If a tool says GitHub is \
not configured or unreachable, call status."""

Repo = Annotated[
    str | None,
    Field(
        min_length=3,
        max_length=200,
        description="The repository as 'owner/name', e.g. 'octocat/Hello-World' (any case; a "
        "github.com address works too). Omit to use the server's default repository.",
    ),
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="The most items to return, 1-100.")]
Number = Annotated[
    int,
    Field(
        ge=1,
        lt=2**31,
        description="The issue or pull request number, e.g. 42 for '#42'.",
    ),
]
State = Annotated[
    Literal["open", "closed", "all"],
    Field(description="Which to list: 'open' (the default), 'closed' or 'all'."),
]
RunStatus = Literal[
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
]


class _ClientLifetime(Provider):
    """Provides no tools: closes the shared client's connections when the server stops.

    PyGithub reconnects on the next call, so a server whose lifespan is entered again (one
    in-memory session after another) keeps working.
    """

    def __init__(self, client: GitHubClient) -> None:
        super().__init__()
        self._client = client

    @asynccontextmanager
    async def lifespan(self) -> AsyncGenerator[None]:
        try:
            yield
        finally:
            self._client.close()


def build(settings: GitHubSettings) -> FastMCP:
    """The GitHub server; it starts and lists its tools even before a token is set."""
    # Creating the client sends nothing; without a token its calls raise NotConfiguredError.
    github = GitHubClient(settings)
    timeout = settings.timeout

    async def probe() -> str:
        return await call_blocking(SERVICE, timeout, github.probe)

    instructions = INSTRUCTIONS
    if settings.default_repo:
        instructions += f" Tools given no repo use {settings.default_repo}."
    mcp = create_server("github", settings, instructions=instructions, probe=probe)
    mcp.add_provider(_ClientLifetime(github))

    @mcp.tool(annotations=READ_ONLY)
    async def notifications(
        include_read: Annotated[
            bool, Field(description="false (default): unread threads only; true: read ones too.")
        ] = False,
        repo: Repo = None,
        limit: Limit = 20,
    ) -> list[Notification]:
        """List the user's GitHub notification inbox, newest first.

        Use it for "anything new on GitHub?" or "what needs my attention?". Give repo to see
        one repository's threads only. Each thread has its repo, title, type (Issue,
        PullRequest, Release, …), reason (mention, review_requested, assign, subscribed, …),
        unread and a web url. Reading does not mark anything as read.
        """
        return await call_blocking(
            SERVICE,
            timeout,
            github.notifications,
            include_read=include_read,
            repo=repo,
            limit=limit,
        )

    @mcp.tool(annotations=READ_ONLY)
    async def search_issues(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description="GitHub search syntax, e.g. 'is:pr is:open review-requested:@me', "
                "'repo:octocat/Hello-World is:issue label:bug crash' or 'author:alice is:open'.",
            ),
        ],
        limit: Limit = 20,
    ) -> list[IssueSummary]:
        """Search issues and pull requests across every repository the token can see.

        Use it to find items by words, author, label, state or across repositories; for the
        newest items of one repository list_issues or list_pull_requests are simpler. Returns
        summaries (repo, number, title, state, is_pull_request, author, labels, comments,
        dates, url); call get_issue for the body and comments.
        """
        return await call_blocking(SERVICE, timeout, github.search_issues, query, limit=limit)

    @mcp.tool(annotations=READ_ONLY)
    async def list_issues(
        repo: Repo = None, state: State = "open", limit: Limit = 20
    ) -> list[IssueSummary]:
        """List a repository's issues (pull requests left out), newest first.

        Use it for "what issues are open in X?". Returns summaries (number, title, state,
        author, labels, comment count, dates, url); call get_issue for one issue's body and
        comments.
        """
        return await call_blocking(
            SERVICE, timeout, github.list_issues, repo=repo, state=state, limit=limit
        )

    @mcp.tool(annotations=READ_ONLY)
    async def list_pull_requests(
        repo: Repo = None, state: State = "open", limit: Limit = 20
    ) -> list[PullRequestSummary]:
        """List a repository's pull requests, newest first.

        Use it for "which PRs are open in X?". Each has its number, title, state, draft,
        merged, author, head (source) and base (target) branch, dates and url. For reviews and
        CI of one pull request call pull_request_checks; for its discussion call get_issue.
        """
        return await call_blocking(
            SERVICE, timeout, github.list_pull_requests, repo=repo, state=state, limit=limit
        )

    @mcp.tool(annotations=READ_ONLY)
    async def get_issue(
        number: Number,
        repo: Repo = None,
        comments: Annotated[
            int,
            Field(ge=0, le=MAX_LIMIT, description="How many of the latest comments, 0-100."),
        ] = 10,
    ) -> IssueDetails:
        """Read one issue or pull request: its body and latest comments.

        Use it to answer "what is #42 about?" or before commenting. Returns the summary
        fields, body, recent_comments (oldest first) and, for a pull request, pull_request
        with merge state (merged, mergeable), branches, requested reviewers and
        review_decision (approved, changes_requested, review_requested or none).
        """
        return await call_blocking(
            SERVICE, timeout, github.get_issue, number, repo=repo, comments=comments
        )

    @mcp.tool(annotations=WRITE)
    async def create_issue(
        title: Annotated[
            str,
            Field(min_length=1, max_length=MAX_TITLE, description="The issue's title, one line."),
        ],
        repo: Repo = None,
        body: Annotated[
            str,
            Field(max_length=MAX_BODY, description="The description, in GitHub Markdown."),
        ] = "",
        labels: Annotated[
            tuple[Annotated[str, Field(min_length=1, max_length=50)], ...],
            Field(
                max_length=20,
                description="Names of labels that already exist in the repository, e.g. "
                "['bug'] (any case); an unknown name fails with the close ones.",
            ),
        ] = (),
    ) -> IssueSummary:
        """Open a new issue in a repository, as the token's user.

        Use it only when the user asks to file or open an issue: others see it at once.
        Labels must exist already; a misspelt one is refused (nothing is created) with the
        closest names. Returns the new issue with its number and url.
        """
        return await call_blocking(
            SERVICE, timeout, github.create_issue, title, repo=repo, body=body, labels=labels
        )

    @mcp.tool(annotations=WRITE)
    async def comment(
        number: Number,
        body: Annotated[
            str,
            Field(
                min_length=1, max_length=MAX_BODY, description="The comment, in GitHub Markdown."
            ),
        ],
        repo: Repo = None,
    ) -> Comment:
        """Post a comment on an issue or pull request's conversation, as the token's user.

        Use it only when the user asks to reply or comment: others see it at once. Returns
        the comment with its id and url.
        """
        return await call_blocking(SERVICE, timeout, github.comment, number, body, repo=repo)

    @mcp.tool(annotations=READ_ONLY)
    async def pull_request_checks(number: Number, repo: Repo = None) -> PullRequestChecks:
        """Report a pull request's reviews and CI state: is it approved and green?

        Use it for "can #12 be merged?" or "why is my PR failing?". Returns review_decision,
        every review, overall (success, failure, pending, or none when there are no checks),
        the commit statuses and the check runs of the head commit with their conclusions.
        """
        return await call_blocking(SERVICE, timeout, github.pull_request_checks, number, repo=repo)

    @mcp.tool(annotations=READ_ONLY)
    async def workflow_runs(
        repo: Repo = None,
        branch: Annotated[
            str | None,
            Field(min_length=1, max_length=255, description="Only runs of this branch."),
        ] = None,
        status: Annotated[
            RunStatus | None,
            Field(
                description="Only runs with this status or conclusion, e.g. 'failure', "
                "'in_progress' or 'success'."
            ),
        ] = None,
        limit: Limit = 20,
    ) -> list[WorkflowRun]:
        """List recent GitHub Actions workflow runs of a repository, newest first.

        Use it for "did the build pass?", "is the deploy still running?" or "what failed on
        main?". Each run has its workflow name, title (usually the commit message), run_number,
        status (queued, in_progress, completed), conclusion (success, failure, cancelled, …
        when completed), branch, event and url.
        """
        return await call_blocking(
            SERVICE,
            timeout,
            github.workflow_runs,
            repo=repo,
            branch=branch,
            status=status,
            limit=limit,
        )

    return mcp
