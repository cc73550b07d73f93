import { lazy, Suspense } from "react";
import { Navigate, Outlet, Route, Routes, useLocation } from "react-router";

import { ApprovalsPage } from "@/features/approvals";
import { FirstRunPage, InvitePage, SignInPage } from "@/features/auth";
import { ChatPage } from "@/features/chat";
import { DashboardPage } from "@/features/dashboard";
import { TaskDetailPage, TaskListPage } from "@/features/tasks";
import { useLiveUpdates } from "@/hooks/use-live-updates";
import { useSession } from "@/hooks/use-session";

import { Shell } from "./shell";

// The pages one opens now and then load when first opened: the first page stays small.
const AgentListPage = lazy(() => import("@/features/agents").then((m) => ({ default: m.AgentListPage })));
const AgentEditPage = lazy(() => import("@/features/agents").then((m) => ({ default: m.AgentEditPage })));
const TeamsPage = lazy(() => import("@/features/teams").then((m) => ({ default: m.TeamsPage })));
const WorkflowListPage = lazy(() => import("@/features/workflows").then((m) => ({ default: m.WorkflowListPage })));
const WorkflowEditPage = lazy(() => import("@/features/workflows").then((m) => ({ default: m.WorkflowEditPage })));
const EventsPage = lazy(() => import("@/features/events").then((m) => ({ default: m.EventsPage })));
const ProfilePage = lazy(() => import("@/features/account").then((m) => ({ default: m.ProfilePage })));
const TokensPage = lazy(() => import("@/features/account").then((m) => ({ default: m.TokensPage })));
const OnboardingPage = lazy(() => import("@/features/onboarding").then((m) => ({ default: m.OnboardingPage })));
const McpServersPage = lazy(() => import("@/features/mcp").then((m) => ({ default: m.McpServersPage })));
const ChannelsPage = lazy(() => import("@/features/channels").then((m) => ({ default: m.ChannelsPage })));
const HouseholdPage = lazy(() => import("@/features/household").then((m) => ({ default: m.HouseholdPage })));
const WebhooksPage = lazy(() => import("@/features/webhooks").then((m) => ({ default: m.WebhooksPage })));

function Loading() {
  return (
    <p role="status" className="p-8 text-muted-foreground">
      Loading…
    </p>
  );
}

/** Pages fetch again when Angie says something of theirs changed (GET /api/live). */
function LiveUpdates() {
  useLiveUpdates();
  return null;
}

function SignedIn() {
  const state = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-out") {
    return <Navigate to="/sign-in" replace state={{ from: location.pathname, reason: state.reason }} />;
  }
  return (
    <Shell user={state.user}>
      <LiveUpdates />
      <Suspense fallback={<Loading />}>
        <Outlet />
      </Suspense>
    </Shell>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route path="/setup" element={<FirstRunPage />} />
      <Route path="/invite/:token" element={<InvitePage />} />
      <Route element={<SignedIn />}>
        <Route index element={<DashboardPage />} />
        <Route path="chat" element={<ChatPage />} />
        <Route path="tasks" element={<TaskListPage />} />
        <Route path="tasks/:taskId" element={<TaskDetailPage />} />
        <Route path="approvals" element={<ApprovalsPage />} />
        <Route path="agents" element={<AgentListPage />} />
        <Route path="agents/:agentId" element={<AgentEditPage />} />
        <Route path="teams" element={<TeamsPage />} />
        <Route path="workflows" element={<WorkflowListPage />} />
        <Route path="workflows/:workflowId" element={<WorkflowEditPage />} />
        <Route path="events" element={<EventsPage />} />
        <Route path="settings/channels" element={<ChannelsPage />} />
        <Route path="settings/mcp" element={<McpServersPage />} />
        <Route path="settings/profile" element={<ProfilePage />} />
        <Route path="settings/tokens" element={<TokensPage />} />
        <Route path="settings/household" element={<HouseholdPage />} />
        <Route path="settings/webhooks" element={<WebhooksPage />} />
        <Route path="welcome" element={<OnboardingPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <section>
      <h1 className="text-xl font-semibold">Nothing here</h1>
      <p className="text-muted-foreground">This page does not exist.</p>
    </section>
  );
}
