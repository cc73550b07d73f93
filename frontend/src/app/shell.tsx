import { Bot, CalendarClock, CheckCircle2, Home, KeyRound, LayoutDashboard, ListTodo, LogOut, MessageCircle, Plug, Radio, UserRound, Users, Webhook, Workflow } from "lucide-react";
import type { ReactNode } from "react";
import { NavLink, useLocation, useNavigate } from "react-router";

import type { Schemas } from "@/api/client";
import { session } from "@/api/session";
import { Button } from "@/components/ui/button";
import { Sidekick } from "@/features/chat";
import { Tour } from "@/features/onboarding/components/tour";
import { cn } from "@/lib/utils";

const PAGES = [
  { to: "/", label: "Dashboard", icon: LayoutDashboard, end: true },
  { to: "/chat", label: "Chat", icon: MessageCircle, end: false },
  { to: "/tasks", label: "Tasks", icon: ListTodo, end: false },
  { to: "/approvals", label: "Approvals", icon: CheckCircle2, end: false },
  { to: "/agents", label: "Agents", icon: Bot, end: false },
  { to: "/teams", label: "Teams", icon: Users, end: false },
  { to: "/workflows", label: "Workflows", icon: Workflow, end: false },
  { to: "/events", label: "Events", icon: CalendarClock, end: false },
  { to: "/settings/channels", label: "Channels", icon: Radio, end: false },
  { to: "/settings/mcp", label: "MCP servers", icon: Plug, end: false },
  { to: "/settings/profile", label: "Profile", icon: UserRound, end: false },
  { to: "/settings/tokens", label: "API tokens", icon: KeyRound, end: false },
  { to: "/settings/webhooks", label: "Webhooks", icon: Webhook, end: false },
  { to: "/settings/household", label: "Household", icon: Home, end: false, admin: true },
];

export function Shell({ user, children }: { user: Schemas["UserOut"]; children: ReactNode }) {
  const navigate = useNavigate();
  // The chat page is a conversation with Angie already.
  const chatting = useLocation().pathname === "/chat";
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-10 focus:rounded focus:bg-background focus:p-2"
      >
        Skip to content
      </a>
      <header className="border-b md:w-56 md:border-b-0 md:border-r">
        <div className="flex items-center gap-2 p-4">
          <span className="text-lg font-semibold">Angie</span>
          <span className="flex-1" />
          {chatting ? null : <Sidekick />}
          <Button
            variant="ghost"
            size="sm"
            className="md:hidden"
            onClick={() => void session.signOut().then(() => navigate("/sign-in"))}
          >
            <LogOut aria-hidden /> Sign out
          </Button>
        </div>
        <nav aria-label="Main" className="flex gap-1 overflow-x-auto px-2 pb-2 md:flex-col">
          {PAGES.filter((p) => !p.admin || user.is_admin).map(({ to, label, icon: Icon, end }) => (
            <NavLink
              key={to}
              to={to}
              end={end}
              className={({ isActive }) =>
                cn(
                  "flex items-center gap-2 rounded-md px-3 py-2 text-sm hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                  isActive && "bg-accent font-medium",
                )
              }
            >
              <Icon className="size-4" aria-hidden />
              {label}
            </NavLink>
          ))}
        </nav>
        <div className="hidden p-4 text-sm text-muted-foreground md:block">
          <p className="truncate" title={user.email}>
            {user.display_name || user.email}
          </p>
          <Button
            variant="outline"
            size="sm"
            className="mt-2"
            onClick={() => void session.signOut().then(() => navigate("/sign-in"))}
          >
            <LogOut aria-hidden /> Sign out
          </Button>
        </div>
      </header>
      <main id="main" className="flex-1 p-4 md:p-8">
        {children}
      </main>
      <Tour userId={user.id} />
    </div>
  );
}
