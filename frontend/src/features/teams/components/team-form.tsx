import { type FormEvent, useState } from "react";

import { ReorderButtons } from "@/components/reorder-buttons";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { moved } from "@/lib/utils";

import { type Team, type TeamIn, useAgentNames, useSaveTeam } from "../api/teams";

/** A team's editor: its name, what it is for, and its agents in order. */
export function TeamForm({ team, onDone }: { team?: Team; onDone: () => void }) {
  const agents = useAgentNames();
  const save = useSaveTeam(team?.id ?? null);
  const [form, setForm] = useState<TeamIn>({
    name: team?.name ?? "",
    description: team?.description ?? "",
    prompt: team?.prompt ?? "",
    enabled: team?.enabled ?? true,
    members: team?.members.map((m) => m.agent_id) ?? [],
  });
  const [adding, setAdding] = useState("");
  const set = (change: Partial<TeamIn>) => setForm((old) => ({ ...old, ...change }));
  const name = (id: number) => agents.data?.items.find((a) => a.id === id)?.name ?? team?.members.find((m) => m.agent_id === id)?.name ?? `agent ${id}`;
  const others = agents.data?.items.filter((a) => !form.members.includes(a.id)) ?? [];
  const prefix = team ? `team-${team.id}` : "team-new";
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(form, { onSuccess: onDone });
  };
  return (
    <form onSubmit={submit} className="grid gap-3 rounded-md border p-3" aria-label={team ? `Team ${team.name}` : "New team"}>
      <div className="grid gap-1">
        <Label htmlFor={`${prefix}-name`}>Team name</Label>
        <Input id={`${prefix}-name`} required pattern="[a-z0-9_]+" value={form.name} onChange={(e) => set({ name: e.target.value })} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${prefix}-description`}>What it does</Label>
        <Input id={`${prefix}-description`} value={form.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${prefix}-prompt`}>Team prompt</Label>
        <Textarea id={`${prefix}-prompt`} rows={4} value={form.prompt} onChange={(e) => set({ prompt: e.target.value })} />
      </div>
      <div className="flex items-center gap-2">
        <input id={`${prefix}-enabled`} type="checkbox" className="size-4" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        <Label htmlFor={`${prefix}-enabled`}>Enabled</Label>
      </div>
      <fieldset className="grid gap-2">
        <legend className="text-sm font-medium">Members, in order</legend>
        <ol className="grid gap-1" aria-label="Members">
          {form.members.map((id, index) => (
            <li key={id} className="flex items-center gap-2 rounded-md border px-2 py-1">
              <span className="w-5 text-xs text-muted-foreground">{index + 1}.</span>
              <span className="flex-1">{name(id)}</span>
              <ReorderButtons
                what={name(id)}
                index={index}
                count={form.members.length}
                onMove={(by) => set({ members: moved(form.members, index, by) })}
                onRemove={() => set({ members: form.members.filter((m) => m !== id) })}
              />
            </li>
          ))}
        </ol>
        <div className="flex flex-wrap items-end gap-2">
          <div className="grid gap-1">
            <Label htmlFor={`${prefix}-add`}>Agent to add</Label>
            <select
              id={`${prefix}-add`}
              className="h-9 rounded-md border border-input bg-background px-2 text-sm"
              value={adding}
              onChange={(e) => setAdding(e.target.value)}
            >
              <option value="">Choose…</option>
              {others.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </div>
          <Button
            type="button"
            variant="outline"
            disabled={!adding}
            onClick={() => {
              set({ members: [...form.members, Number(adding)] });
              setAdding("");
            }}
          >
            Add to team
          </Button>
        </div>
      </fieldset>
      {save.isError ? <Alert>{save.error.message}</Alert> : null}
      <div className="flex gap-2">
        <Button type="submit" disabled={save.isPending || form.members.length === 0}>
          {team ? "Save team" : "Create team"}
        </Button>
        <Button type="button" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
