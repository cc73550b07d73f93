"""Every table of Angie's database. Importing this module registers them all on ``Base``."""

import angie.db.models.scheduler_jobs  # noqa: F401 - registers the job store's table
from angie.db.models.agents import Agent, AgentServer, Team, TeamMember
from angie.db.models.approval_rules import ApprovalRule, RuleDecision, RuleSource
from angie.db.models.auth import ApiToken, AuthSession, Invite
from angie.db.models.channel_settings import ChannelSetting
from angie.db.models.channels import (
    ChannelDelivery,
    ChannelPairing,
    DeliveryState,
    OutboundKind,
)
from angie.db.models.conversations import Conversation, Message, MessageRole
from angie.db.models.credentials import Credential
from angie.db.models.effects import EffectState, TaskEffect
from angie.db.models.events import Event, EventStatus, EventType
from angie.db.models.hooks import Webhook
from angie.db.models.leases import Lease
from angie.db.models.mcp import ApprovalMode, ContentTrust, McpServer, McpTransport, ServerHealth
from angie.db.models.mcp_accounts import AccountStatus, McpAccount, McpAccountShare
from angie.db.models.plans import Plan, PlanStatus
from angie.db.models.prompts import Prompt, PromptKind
from angie.db.models.schedules import MisfirePolicy, Schedule
from angie.db.models.tasks import (
    DELEGATIONS,
    Approval,
    ApprovalStatus,
    Task,
    TaskKind,
    TaskStatus,
    ToolCall,
    ToolCallOutcome,
)
from angie.db.models.users import ChannelIdentity, ChannelKind, User
from angie.db.models.workflows import OnFailure, Workflow, WorkflowStep

__all__ = (
    "DELEGATIONS",
    "AccountStatus",
    "Agent",
    "AgentServer",
    "ApiToken",
    "Approval",
    "ApprovalMode",
    "ApprovalRule",
    "ApprovalStatus",
    "AuthSession",
    "ChannelDelivery",
    "ChannelIdentity",
    "ChannelKind",
    "ChannelPairing",
    "ChannelSetting",
    "ContentTrust",
    "Conversation",
    "Credential",
    "DeliveryState",
    "EffectState",
    "Event",
    "EventStatus",
    "EventType",
    "Invite",
    "Lease",
    "McpAccount",
    "McpAccountShare",
    "McpServer",
    "McpTransport",
    "Message",
    "MessageRole",
    "MisfirePolicy",
    "OnFailure",
    "OutboundKind",
    "Plan",
    "PlanStatus",
    "Prompt",
    "PromptKind",
    "RuleDecision",
    "RuleSource",
    "Schedule",
    "ServerHealth",
    "Task",
    "TaskEffect",
    "TaskKind",
    "TaskStatus",
    "Team",
    "TeamMember",
    "ToolCall",
    "ToolCallOutcome",
    "User",
    "Webhook",
    "Workflow",
    "WorkflowStep",
)
