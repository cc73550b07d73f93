"""Turning PyGithub's objects into the server's models.

Each function reads only fields GitHub sends in the response the object came from: reading an
absent one makes PyGithub fetch the object again, one hidden request per item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from github.CheckRun import CheckRun as GhCheckRun
from github.CommitStatus import CommitStatus as GhCommitStatus
from github.Issue import Issue
from github.IssueComment import IssueComment
from github.NamedUser import NamedUser
from github.Notification import Notification as Thread
from github.Organization import Organization
from github.PullRequest import PullRequest
from github.PullRequestReview import PullRequestReview
from github.WorkflowRun import WorkflowRun as Run

from angie_mcp_github.models import (
    CheckRun,
    Comment,
    CommitStatus,
    IssueSummary,
    Notification,
    Overall,
    PullRequestInfo,
    PullRequestSummary,
    Review,
    ReviewDecision,
    WorkflowRun,
)

__all__ = (
    "check_run",
    "comment",
    "commit_status",
    "is_pull_request",
    "issue_summary",
    "login",
    "logins",
    "notification",
    "overall",
    "pull_info",
    "pull_summary",
    "review",
    "review_decision",
    "workflow_run",
)

FAILED = frozenset(
    {"failure", "error", "timed_out", "cancelled", "action_required", "startup_failure"}
)
_SUBJECT = re.compile(r"/repos/[^/]+/[^/]+/(issues|pulls|commits)/([^/]+)$")


def login(user: NamedUser | Organization | None) -> str | None:
    return user.login if user is not None else None


def logins(users: Iterable[NamedUser]) -> list[str]:
    return [u.login for u in users]


def is_pull_request(issue: Issue) -> bool:
    # html_url tells a PR from an issue without touching `pull_request`, which is absent from
    # plain issues and would make PyGithub fetch the issue again.
    return "/pull/" in issue.html_url


def repo_of(api_url: str) -> str:
    return "/".join(api_url.rstrip("/").split("/")[-2:])


def issue_summary(issue: Issue) -> IssueSummary:
    return IssueSummary(
        repo=repo_of(issue.repository_url),
        number=issue.number,
        title=issue.title,
        state=issue.state,
        is_pull_request=is_pull_request(issue),
        author=login(issue.user),
        labels=[label.name for label in issue.labels],
        comments=issue.comments,
        created_at=issue.created_at,
        updated_at=issue.updated_at,
        url=issue.html_url,
    )


def pull_summary(pr: PullRequest) -> PullRequestSummary:
    # The list endpoint has no `merged`; `merged_at` says the same.
    return PullRequestSummary(
        repo=pr.base.repo.full_name,
        number=pr.number,
        title=pr.title,
        state=pr.state,
        draft=bool(pr.draft),
        merged=pr.merged_at is not None,
        author=login(pr.user),
        head=pr.head.ref,
        base=pr.base.ref,
        created_at=pr.created_at,
        updated_at=pr.updated_at,
        url=pr.html_url,
    )


def pull_info(pr: PullRequest, reviews: list[PullRequestReview]) -> PullRequestInfo:
    requested = logins(pr.requested_reviewers)
    return PullRequestInfo(
        state=pr.state,
        draft=bool(pr.draft),
        merged=pr.merged,
        mergeable=pr.mergeable,
        mergeable_state=pr.mergeable_state,
        head=pr.head.ref,
        base=pr.base.ref,
        head_sha=pr.head.sha,
        requested_reviewers=requested,
        review_decision=review_decision(reviews, requested),
    )


def review_decision(reviews: Iterable[PullRequestReview], requested: list[str]) -> ReviewDecision:
    """Each reviewer's latest verdict decides, as on GitHub; comments are not verdicts."""
    latest: dict[str, str] = {}
    for item in reviews:
        if item.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login(item.user) or "?"] = item.state
    verdicts = set(latest.values())
    if "CHANGES_REQUESTED" in verdicts:
        return "changes_requested"
    if "APPROVED" in verdicts:
        return "approved"
    return "review_requested" if requested else "none"


def review(review: PullRequestReview) -> Review:
    return Review(
        author=login(review.user),
        state=review.state,
        body=review.body or "",
        submitted_at=review.submitted_at,
        url=review.html_url,
    )


def comment(comment: IssueComment) -> Comment:
    return Comment(
        id=comment.id,
        author=login(comment.user),
        body=comment.body or "",
        created_at=comment.created_at,
        url=comment.html_url,
    )


def overall(statuses: list[CommitStatus], runs: list[CheckRun]) -> Overall:
    states = [s.state for s in statuses] + [r.conclusion or r.status for r in runs]
    if not states:
        return "none"
    if any(s in FAILED for s in states):
        return "failure"
    if any(s == "pending" for s in states) or any(r.status != "completed" for r in runs):
        return "pending"
    return "success"


def notification(thread: Thread) -> Notification:
    repository = thread.repository
    subject = thread.subject
    url = repository.html_url
    match = _SUBJECT.search(subject.url or "")
    if match:
        kind, ref = match.groups()
        url += {"issues": "/issues/", "pulls": "/pull/", "commits": "/commit/"}[kind] + ref
    return Notification(
        id=str(thread.id),
        repo=repository.full_name,
        title=subject.title,
        type=subject.type,
        reason=thread.reason,
        unread=thread.unread,
        updated_at=thread.updated_at,
        url=url,
    )


def workflow_run(run: Run) -> WorkflowRun:
    return WorkflowRun(
        id=run.id,
        name=run.name,
        title=run.display_title,
        run_number=run.run_number,
        status=run.status,
        conclusion=run.conclusion,
        branch=run.head_branch,
        event=run.event,
        created_at=run.created_at,
        url=run.html_url,
    )


def commit_status(status: GhCommitStatus) -> CommitStatus:
    return CommitStatus(
        context=status.context,
        state=status.state,
        description=status.description,
        url=status.target_url,
    )


def check_run(run: GhCheckRun) -> CheckRun:
    return CheckRun(name=run.name, status=run.status, conclusion=run.conclusion, url=run.html_url)
