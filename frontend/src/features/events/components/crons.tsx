import { type FormEvent, useState } from "react";

import { targetFields, targetKey } from "@/api/targets";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { TargetSelect } from "@/components/target-select";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { when } from "@/lib/utils";

import {
  type Schedule,
  type ScheduleIn,
  useCreateSchedule,
  useCronPreview,
  useScheduleAction,
  useSchedules,
  useUpcoming,
  useUpdateSchedule,
} from "../api/events";

type Form = { name: string; cron: string; timezone: string; instruction: string; target: string };
const EMPTY: Form = { name: "", cron: "", timezone: "", instruction: "", target: "" };

function formOf(schedule: Schedule): Form {
  return {
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone,
    instruction: schedule.instruction,
    target: targetKey(schedule),
  };
}

/** What the crontab means, as Angie's scheduler reads it, while it is typed. */
function CronPreview({ cron, timezone }: { cron: string; timezone: string }) {
  const preview = useCronPreview(cron, timezone);
  if (!cron.trim()) return null;
  return (
    <div role="status" aria-live="polite" className="text-sm">
      {preview.isError ? (
        <p className="text-destructive">{preview.error.message}</p>
      ) : preview.data ? (
        <>
          <p>
            {preview.data.description}, {preview.data.timezone}
          </p>
          <p className="text-xs text-muted-foreground">
            Next: {preview.data.next_runs.map((at) => when(at)).join(" · ") || "never (no time matches)"}
          </p>
        </>
      ) : null}
    </div>
  );
}

function CronForm({ editing, onDone }: { editing?: Schedule; onDone?: () => void }) {
  const create = useCreateSchedule();
  const update = useUpdateSchedule();
  const [form, setForm] = useState<Form>(editing ? formOf(editing) : EMPTY);
  const set = (change: Partial<Form>) => setForm((old) => ({ ...old, ...change }));
  const saving = editing ? update : create;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const fields = {
      name: form.name.trim(),
      cron: form.cron.trim(),
      timezone: form.timezone.trim() || null,
      instruction: form.instruction,
      ...targetFields(form.target),
    };
    if (editing) {
      // The target is sent only when it changed: naming one replaces the whole target.
      const { agent_id, team_id, workflow_id, ...rest } = fields;
      const retarget = form.target !== formOf(editing).target ? { agent_id, team_id, workflow_id } : {};
      update.mutate({ id: editing.id, body: { ...rest, ...retarget } }, { onSuccess: () => onDone?.() });
      return;
    }
    const body: ScheduleIn = {
      ...fields,
      enabled: true,
      // Angie's own defaults: a run missed while she was off happens once, within the hour.
      misfire_policy: "run_once",
      misfire_grace_seconds: 3600,
    };
    create.mutate(body, { onSuccess: () => setForm(EMPTY) });
  };
  const title = editing ? `Edit ${editing.name}` : "New cron";
  const prefix = editing ? `cron-${editing.id}` : "cron";
  return (
    <form onSubmit={submit} className="grid gap-3 rounded-md border p-3" aria-label={title}>
      <h3 className="font-medium">{title}</h3>
      <div className="grid gap-3 sm:grid-cols-3">
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-name`}>Name</Label>
          <Input id={`${prefix}-name`} required value={form.name} onChange={(e) => set({ name: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-when`}>When (crontab)</Label>
          <Input id={`${prefix}-when`} required placeholder="0 7 * * 1-5" className="font-mono" value={form.cron} onChange={(e) => set({ cron: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-timezone`}>Timezone (blank: yours)</Label>
          <Input id={`${prefix}-timezone`} placeholder="Europe/Paris" value={form.timezone} onChange={(e) => set({ timezone: e.target.value })} />
        </div>
      </div>
      <CronPreview cron={form.cron} timezone={form.timezone} />
      <div className="grid gap-1">
        <Label htmlFor={`${prefix}-target`}>Who does it</Label>
        <TargetSelect id={`${prefix}-target`} value={form.target} onChange={(target) => set({ target })} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${prefix}-instruction`}>Instruction</Label>
        <Textarea id={`${prefix}-instruction`} rows={2} value={form.instruction} onChange={(e) => set({ instruction: e.target.value })} />
      </div>
      {saving.isError ? <Alert>{saving.error.message}</Alert> : null}
      {create.data && !editing ? (
        <p role="status" className="text-sm text-muted-foreground">
          Made {create.data.name}; it first runs {when(create.data.next_run_at) || "never (no time matches)"}.
        </p>
      ) : null}
      <div className="flex gap-2">
        <Button type="submit" disabled={saving.isPending}>{editing ? "Save cron" : "Create cron"}</Button>
        {editing ? (
          <Button type="button" variant="ghost" onClick={() => onDone?.()}>
            Cancel
          </Button>
        ) : null}
      </div>
    </form>
  );
}

/** Your crons, what they run next, and the form for another. */
export function Crons() {
  const schedules = useSchedules();
  const upcoming = useUpcoming();
  const action = useScheduleAction();
  const [editing, setEditing] = useState<number | null>(null);
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
                <Button variant="outline" size="sm" aria-label={`Edit ${s.name}`} onClick={() => setEditing(s.id)}>
                  Edit
                </Button>
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
              {editing === s.id ? <CronForm editing={s} onDone={() => setEditing(null)} /> : null}
            </li>
          );
        })}
      </ul>
      <CronForm />
    </section>
  );
}
