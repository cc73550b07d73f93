"""What the GitHub tools return: small, typed records with the fields a model needs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = (
    "CheckRun",
    "Comment",
    "CommitStatus",
    "IssueDetails",
    "IssueSummary",
    "Notification",
    "Overall",
    "PullRequestChecks",
    "PullRequestInfo",
    "PullRequestSummary",
    "Review",
    "ReviewDecision",
    "WorkflowRun",
)

# Derived from each reviewer's latest verdict; "review_requested" means reviewers were asked
# but none has approved or asked for changes yet.
ReviewDecision = Literal["approved", "changes_requested", "review_requested", "none"]
Overall = Literal["success", "failure", "pending", "none"]


class Notification(BaseModel):
    """One thread in the user's GitHub inbox."""

    id: str
    repo: str = Field(description="owner/name")
    title: str
    type: str = Field(description="Issue, PullRequest, Release, Commit, Discussion, CheckSuite…")
    reason: str = Field(description="Why the user got it: mention, review_requested, assign…")
    unread: bool
    updated_at: datetime
    url: str = Field(description="Web page of the subject (or of the repository)")


class IssueSummary(BaseModel):
    """An issue or pull request as listed or found by search."""

    repo: str
    number: int
    title: str
    state: str
    is_pull_request: bool
    author: str | None
    labels: list[str]
    comments: int
    created_at: datetime
    updated_at: datetime
    url: str


class PullRequestSummary(BaseModel):
    """A pull request as listed."""

    repo: str
    number: int
    title: str
    state: str
    draft: bool
    merged: bool
    author: str | None
    head: str = Field(description="Source branch")
    base: str = Field(description="Target branch")
    created_at: datetime
    updated_at: datetime
    url: str


class Comment(BaseModel):
    """A conversation comment on an issue or pull request."""

    id: int
    author: str | None
    body: str
    created_at: datetime
    url: str


class Review(BaseModel):
    """A pull request review."""

    author: str | None
    state: str = Field(description="APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING")
    body: str
    submitted_at: datetime | None
    url: str


class PullRequestInfo(BaseModel):
    """The pull-request side of an issue: merge state, branches and review outcome."""

    state: str
    draft: bool
    merged: bool
    mergeable: bool | None = Field(description="None while GitHub is still computing it")
    mergeable_state: str | None
    head: str
    base: str
    head_sha: str
    requested_reviewers: list[str]
    review_decision: ReviewDecision


class IssueDetails(IssueSummary):
    """One issue or pull request with its body and latest comments."""

    body: str
    recent_comments: list[Comment] = Field(description="The latest comments, oldest first")
    pull_request: PullRequestInfo | None = None


class CommitStatus(BaseModel):
    """A commit status (the older status API, e.g. external CI)."""

    context: str
    state: str = Field(description="success, failure, error or pending")
    description: str | None
    url: str | None


class CheckRun(BaseModel):
    """A check run (GitHub Actions jobs and GitHub Apps)."""

    name: str
    status: str = Field(description="queued, in_progress or completed")
    conclusion: str | None = Field(description="success, failure, neutral, cancelled, … when done")
    url: str | None


class PullRequestChecks(BaseModel):
    """Reviews and CI state of a pull request's head commit."""

    repo: str
    number: int
    head_sha: str
    review_decision: ReviewDecision
    reviews: list[Review]
    overall: Overall = Field(
        description="failure if anything failed, pending if anything still runs, none if no checks"
    )
    statuses: list[CommitStatus]
    check_runs: list[CheckRun]


class WorkflowRun(BaseModel):
    """A GitHub Actions workflow run."""

    id: int
    name: str | None
    title: str | None = Field(description="The run's display title, e.g. the commit message")
    run_number: int
    status: str | None
    conclusion: str | None
    branch: str | None
    event: str
    created_at: datetime
    url: str
