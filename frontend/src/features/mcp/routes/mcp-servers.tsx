import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { Button } from "@/components/ui/button";
import { when } from "@/lib/utils";

import { ConnectAccount } from "../components/connect-account";
import {
  type Account,
  type Server,
  useAccounts,
  useForgetAccount,
  useMcpServers,
  useMe,
  useServerTools,
  useUpdateServer,
} from "../api/mcp";

const SELECT = "h-8 rounded-md border border-input bg-background px-2 text-sm disabled:opacity-60";
const MODES = [
  ["auto", "by each tool's hints (reads run, changes ask)"],
  ["allow", "allow every call"],
  ["ask", "ask before every call"],
  ["never", "never call"],
] as const;
const DECISIONS = ["allow", "ask", "never"] as const;

function Health({ server }: { server: Server }) {
  const variant = server.health === "healthy" ? "success" : server.health === "unhealthy" ? "destructive" : "secondary";
  return (
    <span className="flex flex-wrap items-center gap-2">
      <Badge variant={variant}>{server.health}</Badge>
      {server.idle ? (
        <Badge variant="outline" title="Stopped while nobody used it; the next call starts it again.">
          idle
        </Badge>
      ) : null}
      {server.configured === false ? <Badge variant="outline">not configured</Badge> : null}
      {!server.enabled ? <Badge variant="outline">off</Badge> : null}
      {!server.installed ? <Badge variant="outline">not installed here</Badge> : null}
    </span>
  );
}

function Tools({ server, admin }: { server: Server; admin: boolean }) {
  const tools = useServerTools(server.name, true);
  const update = useUpdateServer(server.name);
  const choose = (tool: string, decision: string) => {
    const policies: Record<string, "allow" | "ask" | "never"> = { ...server.tool_policies };
    if (decision === "") delete policies[tool];
    else policies[tool] = decision as "allow" | "ask" | "never";
    update.mutate({ tool_policies: policies });
  };
  if (tools.isPending) return <p className="text-sm text-muted-foreground">Asking the server for its tools…</p>;
  if (tools.isError) return <Alert>{tools.error.message}</Alert>;
  return (
    <div className="grid gap-2">
      {update.isError ? <Alert>{update.error.message}</Alert> : null}
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Tools of {server.name} and what a call does</caption>
        <thead className="text-xs text-muted-foreground">
          <tr>
            <th scope="col" className="py-1 pr-2 font-normal">Tool</th>
            <th scope="col" className="py-1 pr-2 font-normal">Kind</th>
            <th scope="col" className="py-1 pr-2 font-normal">A call now</th>
            <th scope="col" className="py-1 font-normal">Its own rule</th>
          </tr>
        </thead>
        <tbody>
          {tools.data.map((tool) => (
            <tr key={tool.name} className="border-t align-top">
              <td className="py-1 pr-2">
                <span className="font-mono">{tool.name}</span>
                {tool.description ? <p className="text-xs text-muted-foreground">{tool.description.split("\n")[0]}</p> : null}
              </td>
              <td className="py-1 pr-2 text-xs">{tool.read_only ? "reads" : tool.destructive ? "destroys" : "changes"}</td>
              <td className="py-1 pr-2 text-xs">
                {tool.decision}
                {tool.untrusted_decision !== tool.decision ? ` (${tool.untrusted_decision} when outside content started it)` : ""}
              </td>
              <td className="py-1">
                <select
                  aria-label={`Rule for ${tool.name}`}
                  className={SELECT}
                  disabled={!admin || update.isPending}
                  value={server.tool_policies[tool.name] ?? ""}
                  onChange={(event) => choose(tool.name, event.target.value)}
                >
                  <option value="">as the server's mode says</option>
                  {DECISIONS.map((decision) => (
                    <option key={decision} value={decision}>
                      {decision}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Angie warns in the person's channel two days ahead; the page says it from the same moment.
const SOON_MS = 2 * 24 * 60 * 60 * 1000;

function SignInExpiry({ expiresAt }: { expiresAt: string | null }) {
  // The moment the page was shown: "soon" does not change while one looks at it.
  const [shownAt] = useState(() => Date.now());
  if (!expiresAt) return null;
  const soon = new Date(expiresAt).getTime() - shownAt < SOON_MS;
  return (
    <span className={soon ? "text-xs font-medium text-destructive" : "text-xs text-muted-foreground"}>
      {soon ? "Reconnect soon: the sign-in expires " : "sign-in expires "}
      {when(expiresAt)}
    </span>
  );
}

function Accounts({ server, accounts }: { server: Server; accounts: Account[] }) {
  const forget = useForgetAccount();
  const command = `angie mcp connect ${server.name}`;
  return (
    <div className="grid gap-2 text-sm">
      <p>
        Each person connects their own {server.name} account. The sign-in runs on the machine Angie runs on, so its
        tokens never pass through the browser: connect here, or run
      </p>
      <p className="flex flex-wrap items-center gap-2">
        <code className="rounded bg-muted px-2 py-1">{command}</code>
        <CopyButton value={command} label={`Copy the command that connects ${server.name}`} />
      </p>
      <ConnectAccount server={server} />
      {accounts.length === 0 ? <p className="text-muted-foreground">You have no {server.name} account yet.</p> : null}
      <ul className="grid gap-1" aria-label={`Your ${server.name} accounts`}>
        {accounts.map((account) => (
          <li key={account.id} className="flex flex-wrap items-center gap-2">
            <span className="font-medium">{account.label}</span>
            <Badge variant={account.status === "connected" ? "success" : "destructive"}>{account.status}</Badge>
            {account.mine ? null : <span className="text-xs text-muted-foreground">shared with you</span>}
            <SignInExpiry expiresAt={account.sign_in_expires_at} />
            {account.mine ? (
              <ConfirmButton
                variant="ghost"
                size="sm"
                aria-label={`Forget ${account.label}`}
                title={`Forget the ${server.name} account ${account.label}?`}
                description="Its tokens are deleted here and its server instance stops. Revoke Angie's access at the provider too."
                confirmLabel="Forget account"
                onConfirm={() => forget.mutate(account.id)}
              >
                Forget
              </ConfirmButton>
            ) : null}
          </li>
        ))}
      </ul>
      {forget.isError ? <Alert>{forget.error.message}</Alert> : null}
    </div>
  );
}

function ServerCard({ server, admin, accounts }: { server: Server; admin: boolean; accounts: Account[] }) {
  const update = useUpdateServer(server.name);
  const [open, setOpen] = useState(false);
  return (
    <li className="grid gap-2 rounded-md border p-3" aria-label={server.name}>
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="font-mono text-base font-semibold">{server.name}</h2>
        <Health server={server} />
        <span className="flex-1" />
        {admin ? (
          <Button
            variant="outline"
            size="sm"
            aria-label={`${server.enabled ? "Switch off" : "Switch on"} ${server.name}`}
            disabled={update.isPending}
            onClick={() => update.mutate({ enabled: !server.enabled })}
          >
            {server.enabled ? "Switch off" : "Switch on"}
          </Button>
        ) : null}
      </div>
      {server.description ? <p className="text-sm text-muted-foreground">{server.description}</p> : null}
      {server.last_error ? <p className="text-sm text-destructive">{server.last_error}</p> : null}
      {server.missing_settings.length > 0 ? (
        <p className="text-sm">
          It needs {server.missing_settings.map((name) => <code key={name} className="mx-1">{name}</code>)} in Angie's
          environment or <code>.env</code>.
        </p>
      ) : null}
      <div className="flex flex-wrap gap-4 text-sm">
        <label className="grid gap-1">
          <span className="text-xs text-muted-foreground">Calls</span>
          <select
            className={SELECT}
            disabled={!admin || update.isPending}
            value={server.approval_mode}
            onChange={(event) => update.mutate({ approval_mode: event.target.value as Server["approval_mode"] })}
          >
            {MODES.map(([mode, label]) => (
              <option key={mode} value={mode}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="grid gap-1">
          <span className="text-xs text-muted-foreground">
            What it returns (set by {server.content_trust_set_by})
          </span>
          <select
            className={SELECT}
            disabled={!admin || update.isPending}
            value={server.content_trust}
            onChange={(event) => update.mutate({ content_trust: event.target.value as Server["content_trust"] })}
          >
            <option value="trusted">trusted: only the household writes it</option>
            <option value="untrusted">untrusted: others write it (mail, issues, web pages)</option>
          </select>
        </label>
      </div>
      {!admin ? <p className="text-xs text-muted-foreground">Only an admin changes these.</p> : null}
      {update.isError ? <Alert>{update.error.message}</Alert> : null}
      {server.scope === "personal" ? <Accounts server={server} accounts={accounts} /> : null}
      {server.active ? (
        <div>
          <Button variant="ghost" size="sm" aria-expanded={open} onClick={() => setOpen((was) => !was)}>
            {open ? "Hide tools" : "Show tools"}
          </Button>
          {open ? <Tools server={server} admin={admin} /> : null}
        </div>
      ) : null}
    </li>
  );
}

/** The household's MCP servers: health, approval policy per tool, content trust, accounts. */
export function McpServersPage() {
  const me = useMe();
  const servers = useMcpServers();
  const accounts = useAccounts();
  const admin = me.data?.is_admin ?? false;
  const mine = accounts.data?.accounts ?? [];
  return (
    <section className="grid gap-4">
      <h1 className="text-xl font-semibold">MCP servers</h1>
      <p className="text-sm text-muted-foreground">
        Angie acts only through these servers. A change to calls or trust applies to the next call; switching a
        server on or off applies when Angie restarts.
      </p>
      {servers.isError ? <Alert>{servers.error.message}</Alert> : null}
      <ul className="grid gap-3" aria-label="MCP servers">
        {servers.data?.items.map((server) => (
          <ServerCard
            key={server.name}
            server={server}
            admin={admin}
            accounts={mine.filter((account) => account.server === server.name)}
          />
        ))}
      </ul>
    </section>
  );
}
