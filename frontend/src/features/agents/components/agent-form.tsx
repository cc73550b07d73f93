import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";

import { type Agent, type AgentIn, useServers } from "../api/agents";
import { ToolPicker } from "./tool-picker";

function start(agent: Agent | undefined): AgentIn {
  return {
    name: agent?.name ?? "",
    description: agent?.description ?? "",
    prompt: agent?.prompt ?? "",
    tool_filter: agent?.tool_filter ?? [],
    model: agent?.model ?? null,
    enabled: agent?.enabled ?? true,
    servers: agent?.servers ?? [],
  };
}

/** An agent's editor: name, prompt, model, servers and the tools it may use. */
export function AgentForm({
  agent,
  saving,
  error,
  onSave,
}: {
  agent?: Agent;
  saving: boolean;
  error: string | null;
  onSave: (body: AgentIn) => void;
}) {
  const [form, setForm] = useState<AgentIn>(() => start(agent));
  const servers = useServers();
  const set = (change: Partial<AgentIn>) => setForm((old) => ({ ...old, ...change }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave({ ...form, model: form.model?.trim() || null });
  };
  const locked = agent?.builtin ?? false;
  return (
    <form className="grid gap-4" onSubmit={submit} aria-label="Agent">
      <div className="grid gap-1">
        <Label htmlFor="agent-name">Name</Label>
        <Input
          id="agent-name"
          required
          disabled={locked}
          pattern="[a-z0-9_]+"
          title="lower-case letters, digits and _"
          value={form.name}
          onChange={(e) => set({ name: e.target.value })}
        />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="agent-description">What it does (Angie reads this to pick it)</Label>
        <Input id="agent-description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="agent-prompt">Prompt</Label>
        <Textarea
          id="agent-prompt"
          rows={10}
          className="font-mono"
          value={form.prompt}
          onChange={(e) => set({ prompt: e.target.value })}
        />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="agent-model">Model (blank: Angie's own)</Label>
        <Input
          id="agent-model"
          placeholder="openai:gpt-4o-mini"
          value={form.model ?? ""}
          onChange={(e) => set({ model: e.target.value })}
        />
      </div>
      <div className="flex items-center gap-2">
        <input
          id="agent-enabled"
          type="checkbox"
          className="size-4"
          checked={form.enabled}
          onChange={(e) => set({ enabled: e.target.checked })}
        />
        <Label htmlFor="agent-enabled">Enabled</Label>
      </div>
      <fieldset className="grid gap-1">
        <legend className="text-sm font-medium">MCP servers</legend>
        {servers.isError ? <Alert>{servers.error.message}</Alert> : null}
        <div className="flex flex-wrap gap-x-4 gap-y-1">
          {servers.data?.items.map((server) => (
            <label key={server.name} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                className="size-4"
                checked={form.servers.includes(server.name)}
                onChange={(e) =>
                  set({
                    servers: e.target.checked
                      ? [...form.servers, server.name]
                      : form.servers.filter((name) => name !== server.name),
                  })
                }
              />
              {server.name}
              {server.enabled ? "" : " (disabled)"}
            </label>
          ))}
        </div>
      </fieldset>
      <ToolPicker
        servers={form.servers}
        filter={form.tool_filter ?? []}
        onChange={(tool_filter) => set({ tool_filter })}
      />
      {form.tool_filter && form.tool_filter.length > 0 ? (
        <p className="text-xs text-muted-foreground">
          Tool filter: <code>{form.tool_filter.join(" ")}</code>
        </p>
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
      <div>
        <Button type="submit" disabled={saving || form.servers.length === 0}>
          {agent ? "Save agent" : "Create agent"}
        </Button>
      </div>
    </form>
  );
}
