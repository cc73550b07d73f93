"""The worker's side of a task: claim it, run it by kind, settle it (succeed, fail, retry or
suspend) and report back. Children (delegations, workflow steps) run inside their parent."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

import httpx
from pydantic_ai import CallDeferred
from pydantic_ai.exceptions import ModelHTTPError, UnexpectedModelBehavior, UsageLimitExceeded

from angie.agents.approvals import ApprovalService
from angie.agents.chat import ChatTurn
from angie.agents.llm import ModelFailed
from angie.agents.runner import AgentFactory, Answer
from angie.agents.runs import (
    Failed,
    Finished,
    Outcome,
    Suspended,
    Waiting,
    answer_of,
    run_agent,
)
from angie.agents.trust import fence, started_by, taint_task
from angie.db.base import utcnow
from angie.db.models import Task, TaskKind, TaskStatus
from angie.errors import AngieError
from angie.feedback import DeliveryKind, Feedback, Written
from angie.live import LiveType
from angie.mcp.supervisor import SupervisorError
from angie.tasks.service import TERMINAL, TaskService
from angie.tasks.spending import UNATTENDED, spent_on
from angie.workflows.engine import WorkflowEngine

__all__ = ("Executor",)

log = logging.getLogger(__name__)

# A built-in MCP server being restarted is transient too: the task runs again once it is back.
_TRANSIENT = (httpx.TransportError, ConnectionError, TimeoutError, SupervisorError)


def _cause(err: BaseException) -> BaseException:
    """What a failure is about: Angie's own error where a library wrapped one (a task group's
    ExceptionGroup, a client's ``RuntimeError(...) from`` it), else ``err`` itself."""
    seen: set[int] = set()
    pending = [err]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, AngieError):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
    if isinstance(err, BaseExceptionGroup) and len(err.exceptions) == 1:
        return _cause(err.exceptions[0])
    return err


def _transient(err: BaseException) -> bool:
    err = _cause(err)
    if isinstance(err, ModelFailed):
        return err.transient
    if isinstance(err, ModelHTTPError):
        return err.status_code == 429 or err.status_code >= 500
    return isinstance(err, _TRANSIENT)


def _explain(err: BaseException) -> str:
    """One sentence for the person; the details go to the log."""
    err = _cause(err)
    if isinstance(err, AngieError):  # Angie's own errors carry their sentence
        return err.message
    if isinstance(err, LookupError):
        return str(err)
    if isinstance(err, ModelHTTPError):
        return f"the language model answered with an error ({err.status_code})"
    if isinstance(err, UsageLimitExceeded):
        return f"the work went over its limits ({err})"
    if isinstance(err, UnexpectedModelBehavior):
        return f"the language model misbehaved ({err.message})"
    if _transient(err):
        return f"a service could not be reached ({type(err).__name__})"
    return f"something went wrong ({type(err).__name__})"


# The task a delegation becomes: an approved plan runs as a workflow of its own steps.
_DELEGATED = {"agent": TaskKind.AGENT, "team": TaskKind.TEAM, "plan": TaskKind.WORKFLOW}


class Executor:
    def __init__(
        self,
        tasks: TaskService,
        factory: AgentFactory,
        chat: ChatTurn,
        approvals: ApprovalService,
        feedback: Feedback,
        enqueue: Callable[[int, int | None], None],
        *,
        retry_backoff: float = 2.0,
        daily_budget: Decimal | None = None,
    ) -> None:
        self.tasks = tasks
        self.factory = factory
        self.chat = chat
        self.approvals = approvals
        self.feedback = feedback
        self._enqueue = enqueue
        self._backoff = retry_backoff
        self.daily_budget = daily_budget
        self.workflows = WorkflowEngine(tasks.db, tasks, self.run_inline)
        # Per running task: how many identical delegations it made in this execution.
        self._delegations: dict[int, Counter[str]] = {}

    async def handle(self, task_id: int) -> None:
        """The queue's entry point: run the task if it is still to be run."""
        task = await self._claim(task_id, inline=False)
        if task is None:
            if not await self._answer_if_unanswered(task_id):
                log.info("task %s is not runnable now; delivery ignored", task_id)
            return
        await self._settle(task, inline=False)

    async def _answer_if_unanswered(self, task_id: int) -> bool:
        """A task delivered again after the worker running it died: one that had settled but
        whose answer was never written (the worker died between the two) is answered now, so
        the person hears once. Says whether it answered."""
        task = await self.tasks.get(task_id)
        if (
            task is None
            or task.parent_id is not None
            or task.status not in {TaskStatus.SUCCEEDED, TaskStatus.FAILED}
            or task.finished_at is None
        ):
            return False
        if await self.feedback.answered(task.id, since=task.finished_at):
            return False
        log.warning("task %s settled without its answer (its worker died); answering now", task.id)
        if task.status is TaskStatus.SUCCEEDED:
            kind = DeliveryKind.RESULT
            text = str((task.result or {}).get("text") or "Done.")
        else:
            kind = DeliveryKind.FAILURE
            text = f"I could not finish that: {task.error}."
        await self.feedback.send(
            kind,
            user_id=task.user_id,
            channel=task.channel,
            thread=task.thread,
            text=text,
            task_id=task.id,
            tainted_by=task.tainted_by or started_by(task),
        )
        return True

    async def run_inline(self, child: Task) -> Task:
        """Run a child task inside its parent's run; returns it as it ended up."""
        claimed = await self._claim(child.id, inline=True)
        if claimed is not None:
            await self._settle(claimed, inline=True)
        return await self.tasks.require(child.id)

    async def _claim(self, task_id: int, *, inline: bool) -> Task | None:
        """Claim the task; one that has used all its attempts is failed and reported instead."""
        task = await self.tasks.claim(task_id)
        if task is not None:
            if self.feedback.live is not None:
                self.feedback.live.remember(task)
                await self.feedback.live.announce(task.id, LiveType.TASK, status=task.status.value)
            return task
        spent = await self.tasks.exhausted(task_id)
        if spent is not None:
            log.warning("task %s used its %s attempts; giving up", task_id, spent.attempts)
            if spent.status is TaskStatus.RUNNING:  # the last attempt died with the process
                reason = (
                    f"Angie stopped {spent.attempts} times while doing this; "
                    "I gave up so it cannot crash her again"
                )
            else:
                reason = f"it was tried {spent.attempts} times; I gave up"
            await self._apply(spent, Failed(reason), inline=inline)
        return None

    async def _settle(self, task: Task, *, inline: bool) -> None:
        while True:
            try:
                outcome = await self._execute(task)
            except asyncio.CancelledError:
                raise  # shutting down: the task stays running and is picked up again
            except Exception as err:
                log.warning(
                    "task %s attempt %s failed: %r", task.id, task.attempts, err, exc_info=True
                )
                retry_any = task.kind is TaskKind.WORKFLOW_STEP
                if task.attempts < task.max_attempts and (retry_any or _transient(err)):
                    why = f"{_explain(err)}; Angie retries"
                    if inline:
                        await asyncio.sleep(min(self._backoff * task.attempts, 30.0))
                        again = await self.tasks.requeue(task.id, error=why)
                        claimed = await self.tasks.claim(task.id) if again else None
                        if claimed is None:
                            return
                        task = claimed
                        continue
                    await self.tasks.requeue(task.id, error=why)
                    self._enqueue(task.id, int(self._backoff * 1000 * 2 ** (task.attempts - 1)))
                    return
                outcome = Failed(_explain(err))
            break
        await self._apply(task, outcome, inline=inline)

    async def _apply(self, task: Task, outcome: Outcome, *, inline: bool) -> None:
        if isinstance(outcome, Waiting):
            await self.tasks.suspend(task.id, task.state or {})
            return
        if isinstance(outcome, Suspended):
            await self.tasks.suspend(task.id, outcome.state)
            if outcome.approvals:
                for approval in await self.approvals.request(
                    task, outcome.approvals, outcome.reasons
                ):
                    reason = outcome.reasons.get(approval.tool_call_id)
                    await self.feedback.send(
                        DeliveryKind.APPROVAL_REQUEST,
                        user_id=task.user_id,
                        channel=task.channel,
                        thread=task.thread,
                        text=(
                            (f"I stopped: {reason}. " if reason else "")
                            + f"May I call {approval.server}.{approval.tool} with "
                            f"{approval.arguments}? Approve or deny approval {approval.id}."
                        ),
                        task_id=task.id,
                        approval_id=approval.id,
                        tainted_by=task.tainted_by or started_by(task),
                    )
            return
        kind: Literal[DeliveryKind.RESULT, DeliveryKind.FAILURE] = DeliveryKind.RESULT
        written: Written | None = None
        # The task settles, with its run's use of the model, and its answer is written in one
        # transaction: the person hears exactly when it ended, even if the worker dies the
        # moment after.
        used = outcome.used if isinstance(outcome, Finished) else None
        async with self.tasks.usage_kept(task.id, used), self.tasks.db.session() as session:
            for call in outcome.audit:
                session.add(call.row(task.id))
            if isinstance(outcome, Finished):
                result = {"text": outcome.text, "data": outcome.data}
                settled = await self.tasks.succeed(task.id, result, session=session, used=used)
                text = outcome.text
            else:
                settled = await self.tasks.fail(task.id, outcome.error, session=session)
                kind = DeliveryKind.FAILURE
                text = outcome.told or f"I could not finish that: {outcome.error}."
            if settled and task.parent_id is None and task.user_id is not None:
                written = await self.feedback.record(
                    session,
                    kind,
                    user_id=task.user_id,
                    channel=task.channel,
                    thread=task.thread,
                    text=text,
                    task_id=task.id,
                    tainted_by=task.tainted_by or started_by(task),
                    conversation_id=outcome.conversation_id,
                )
        if not settled:
            return  # cancelled meanwhile: nothing to say
        if written is not None:
            await self.feedback.push(written)
        elif task.parent_id is None:
            log.info("task %s has nobody to tell: %s", task.id, kind.value)
        elif not inline:
            await self.wake(task.parent_id)

    async def wake(self, task_id: int) -> None:
        """A parent waiting for a child (or an approval) goes back on the queue."""
        parent = await self.tasks.get(task_id)
        waiting = parent is not None and parent.status is TaskStatus.AWAITING_APPROVAL
        if waiting and await self.tasks.resume(task_id):
            self._enqueue(task_id, None)

    async def _execute(self, task: Task) -> Outcome:
        self._delegations[task.id] = Counter()
        try:
            return await self._execute_kind(task)
        finally:
            self._delegations.pop(task.id, None)

    async def _execute_kind(self, task: Task) -> Outcome:
        if await self._budget_spent(task):
            return Failed(
                "today's budget is spent",
                f"I did not start this: today's budget of ${self.daily_budget:.2f} is spent, "
                "so unattended work waits for tomorrow. Ask me yourself if it cannot wait.",
            )
        untrusted = bool(task.input.get("untrusted"))
        if task.kind is TaskKind.CHAT:
            return await self.chat.run(task, self._delegate)
        if task.kind is TaskKind.WORKFLOW:
            return await self.workflows.run(task)
        if task.kind in (TaskKind.AGENT, TaskKind.TEAM, TaskKind.WORKFLOW_STEP):
            if task.agent_id is not None:
                built = await self.factory.for_agent(task, task.agent_id, untrusted=untrusted)
            elif task.team_id is not None:
                built = await self.factory.for_team(task, task.team_id, untrusted=untrusted)
            else:
                return Failed("the task names no agent or team")
            prompt = str(task.input.get("text", ""))
            if untrusted and task.input.get("data") is not None:
                prompt = fence(
                    f"{prompt}\n{task.input['data']}", str(task.input.get("event_type", "outside"))
                )
            return await run_agent(
                built.agent,
                task,
                prompt=prompt,
                tasks=self.tasks,
                approvals=self.approvals,
                delegate=self._delegate,
                limits=built.limits,
            )
        # TaskKind.TOOL: a direct call, made like the chat command that asks for it.
        text = str(task.input.get("text", ""))
        return await self.chat.run(task, self._delegate) if text else Failed("no command")

    async def _budget_spent(self, task: Task) -> bool:
        """Whether ``task`` is unattended work (a cron or webhook task, not yet started) of a
        person whose daily budget is spent."""
        if self.daily_budget is None or task.user_id is None or (task.state or {}).get("messages"):
            return False
        if task.input.get("event_type") not in UNATTENDED:
            return False
        async with self.tasks.db.session() as session:
            spent = await spent_on(session, task.user_id, utcnow())
        return spent.cost_usd >= self.daily_budget

    async def _delegate(
        self,
        parent: Task,
        call_id: str,
        kind: Literal["agent", "team", "plan"],
        target: int,
        request: str,
    ) -> Answer:
        # Keyed by what is asked, not by the model's call id (new on every run): a run repeated
        # after a crash finds the child it started before, with that child's effects journal.
        digest = hashlib.sha256(f"{kind}:{target}:{request}".encode()).hexdigest()[:24]
        counter = self._delegations.setdefault(parent.id, Counter())
        sequence = counter[digest]
        counter[digest] += 1
        child, _ = await self.tasks.submit(
            _DELEGATED[kind],
            user_id=parent.user_id,
            input={
                "text": request,
                **({"plan_id": target} if kind == "plan" else {}),
                **({"untrusted": True} if parent.input.get("untrusted") else {}),
            },
            # A tainted parent's request may carry what it read: the child starts tainted.
            tainted_by=parent.tainted_by or started_by(parent),
            idempotency_key=f"task:{parent.id}:ask:{digest}:{sequence}",
            parent_id=parent.id,
            agent_id=target if kind == "agent" else None,
            team_id=target if kind == "team" else None,
            channel=parent.channel,
            thread=parent.thread,
            event_id=parent.event_id,
        )
        if child.status not in TERMINAL and child.status is not TaskStatus.AWAITING_APPROVAL:
            child = await self.run_inline(child)
        if child.status is TaskStatus.AWAITING_APPROVAL:
            raise CallDeferred(metadata={"task_id": child.id})
        if child.tainted_by is not None:
            # Its answer may quote what it read: the parent is tainted from here on.
            await taint_task(self.tasks.db, parent, child.tainted_by)
        return Answer(answer_of(child), child.status is TaskStatus.SUCCEEDED, child.id)

    async def decide(
        self, approval_id: int, *, approve: bool, user_id: int | None, reason: str | None = None
    ) -> None:
        """The person answered: once nothing of the task is pending, it runs on."""
        approval = await self.approvals.decide(
            approval_id, approve=approve, user_id=user_id, reason=reason
        )
        pending = [
            a
            for a in await self.approvals.for_task(approval.task_id)
            if a.status.value == "pending"
        ]
        if not pending:
            await self.wake(approval.task_id)

    async def expire_approvals(self, *, user_id: int | None = None) -> int:
        """Fail, politely, the tasks whose approvals nobody answered in time, or (``user_id``)
        all those of a person whose account was deactivated."""
        expired = await self.approvals.expire_due(user_id=user_id)
        for task_id in dict.fromkeys(a.task_id for a in expired):
            calls = ", ".join(f"{a.server}.{a.tool}" for a in expired if a.task_id == task_id)
            task = await self.tasks.get(task_id)
            if task is None or task.status in TERMINAL:
                continue
            await self._apply(
                task,
                Failed(
                    f"I asked before calling {calls} and did not hear back in time, "
                    "so I did not do it"
                    if user_id is None
                    else f"the account was deactivated before {calls} was approved, "
                    "so I did not do it"
                ),
                inline=False,
            )
        return len(expired)
