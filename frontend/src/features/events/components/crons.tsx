import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { when } from "@/lib/utils";

import { type ScheduleIn, useCreateSchedule, useScheduleAction, useSchedules, useTargets, useUpcoming } from "../api/events";

const SELECT = "h-9 rounded-md border border-input bg-background px-2 text-sm";

function CronForm() {
  const targets = useTargets();
  const create = useCreateSchedule();
  const [form, setForm] = useState({ name: "", cron: "", timezone: "", instruction: "", target: "" });
  const set = (change: Partial<typeof form>) => setForm((old) => ({ ...old, ...change }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const [kind, value] = form.target.split(":");
    const id = value ? Number(value) : null;
    const body: ScheduleIn = {
      name: form.name.trim(),
      cron: form.cron.trim(),
      timezone: form.timezone.trim() || null,
      instruction: form.instruction,
      agent_id: kind === "agent" ? id : null,
      team_id: kind === "team" ? id : null,
      workflow_id: kind === "workflow" ? id : null,
      enabled: true,
      // Angie's own defaults: a run missed while she was off happens once, within the hour.
      misfire_policy: "run_once",
      misfire_grace_seconds: 3600,
    };
    create.mutate(body, { onSuccess: () => setForm({ name: "", cron: "", timezone: "", instruction: "", target: "" }) });
  };
  return (
    <form onSubmit={submit} className="grid gap-3 rounded-md border p-3" aria-label="New cron">
      <h3 className="font-medium">New cron</h3>
      <div className="grid gap-3 sm:grid-cols-3">
        <div className="grid gap-1">
          <Label htmlFor="cron-name">Name</Label>
          <Input id="cron-name" required value={form.name} onChange={(e) => set({ name: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="cron-when">When (crontab)</Label>
          <Input id="cron-when" required placeholder="0 7 * * 1-5" className="font-mono" value={form.cron} onChange={(e) => set({ cron: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="cron-timezone">Timezone (blank: yours)</Label>
          <Input id="cron-timezone" placeholder="Europe/Paris" value={form.timezone} onChange={(e) => set({ timezone: e.target.value })} />
        </div>
      </div>
      <div className="grid gap-1">
        <Label htmlFor="cron-target">Who does it</Label>
        <select id="cron-target" className={SELECT} value={form.target} onChange={(e) => set({ target: e.target.value })}>
          <option value="">Angie herself</option>
          <optgroup label="Agents">
            {targets.agents.map((a) => (
              <option key={a.id} value={`agent:${a.id}`}>{a.name}</option>
            ))}
          </optgroup>
          <optgroup label="Teams">
            {targets.teams.map((t) => (
              <option key={t.id} value={`team:${t.id}`}>team {t.name}</option>
            ))}
          </optgroup>
          <optgroup label="Workflows">
            {targets.workflows.map((w) => (
              <option key={w.id} value={`workflow:${w.id}`}>workflow {w.name}</option>
            ))}
          </optgroup>
        </select>
      </div>
      <div className="grid gap-1">
        <Label htmlFor="cron-instruction">Instruction</Label>
        <Textarea id="cron-instruction" rows={2} value={form.instruction} onChange={(e) => set({ instruction: e.target.value })} />
      </div>
      {create.isError ? <Alert>{create.error.message}</Alert> : null}
      {create.data ? (
        <p role="status" className="text-sm text-muted-foreground">
          Made {create.data.name}; it first runs {when(create.data.next_run_at) || "never (no time matches)"}.
        </p>
      ) : null}
      <div>
        <Button type="submit" disabled={create.isPending}>Create cron</Button>
      </div>
    </form>
  );
}

/** Your crons, what they run next, and the form for another. */
export function Crons() {
  const schedules = useSchedules();
  const upcoming = useUpcoming();
  const action = useScheduleAction();
  return (
    <section aria-labelledby="crons" className="grid gap-3">
      <h2 id="crons" className="text-lg font-semibold">Crons</h2>
      {schedules.isError ? <Alert>{schedules.error.message}</Alert> : null}
      {action.isError ? <Alert>{action.error.message}</Alert> : null}
      {schedules.data?.items.length === 0 ? <p className="text-muted-foreground">No crons yet.</p> : null}
      <ul className="divide-y rounded-md border" aria-label="Crons">
        {schedules.data?.items.map((s) => {
          const next = upcoming.data?.items.filter((t) => t.schedule_id === s.id).slice(0, 3) ?? [];
          return (
            <li key={s.id} className="grid gap-1 px-3 py-2 text-sm">
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-medium">{s.name}</span>
                <code className="text-xs">{s.cron}</code>
                <span className="text-xs text-muted-foreground">{s.timezone}</span>
                {s.enabled ? null : <Badge variant="outline">paused</Badge>}
                <span className="flex-1" />
                <Button
                  variant="outline"
                  size="sm"
                  aria-label={`${s.enabled ? "Pause" : "Resume"} ${s.name}`}
                  onClick={() => action.mutate({ id: s.id, action: s.enabled ? "pause" : "resume" })}
                >
                  {s.enabled ? "Pause" : "Resume"}
                </Button>
                <ConfirmButton
                  variant="ghost"
                  size="sm"
                  aria-label={`Delete ${s.name}`}
                  title={`Delete the cron ${s.name}?`}
                  description="It stops running; its past runs stay in the events."
                  confirmLabel="Delete cron"
                  onConfirm={() => action.mutate({ id: s.id, action: "delete" })}
                >
                  Delete
                </ConfirmButton>
              </div>
              {s.instruction ? <p className="text-muted-foreground">{s.instruction}</p> : null}
              <p className="text-xs text-muted-foreground">
                {s.enabled
                  ? `Next: ${next.length > 0 ? next.map((t) => when(t.at)).join(", ") : when(s.next_run_at) || "none soon"}`
                  : "Paused"}
                {s.last_run_at ? ` · last ran ${when(s.last_run_at)}` : ""}
              </p>
            </li>
          );
        })}
      </ul>
      <CronForm />
    </section>
  );
}
