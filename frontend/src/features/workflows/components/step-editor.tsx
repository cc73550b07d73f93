import { ReorderButtons } from "@/components/reorder-buttons";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";

import type { OnFailure, StepIn } from "../api/workflows";

const SELECT = "h-9 rounded-md border border-input bg-background px-2 text-sm";

/** One step: who runs it, what they are told, and what happens when it fails. */
export function StepEditor({
  step,
  index,
  count,
  agents,
  teams,
  onChange,
  onMove,
  onRemove,
}: {
  step: StepIn;
  index: number;
  count: number;
  agents: { id: number; name: string }[];
  teams: { id: number; name: string }[];
  onChange: (step: StepIn) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
}) {
  const id = `step-${index}`;
  const runner = step.agent_id ? `agent:${step.agent_id}` : step.team_id ? `team:${step.team_id}` : "";
  const title = step.name || `step ${index + 1}`;
  return (
    <li className="grid gap-2 rounded-md border p-3" aria-label={`Step ${index + 1}: ${title}`}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="font-medium">
          {index + 1}. {title}
        </h3>
        <ReorderButtons what={title} index={index} count={count} onMove={onMove} onRemove={onRemove} />
      </div>
      <div className="grid gap-2 sm:grid-cols-2">
        <div className="grid gap-1">
          <Label htmlFor={`${id}-name`}>Step name</Label>
          <Input id={`${id}-name`} required value={step.name} onChange={(e) => onChange({ ...step, name: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${id}-runner`}>Run by</Label>
          <select
            id={`${id}-runner`}
            required
            className={SELECT}
            value={runner}
            onChange={(e) => {
              const [kind, value] = e.target.value.split(":");
              const picked = value ? Number(value) : null;
              onChange({ ...step, agent_id: kind === "agent" ? picked : null, team_id: kind === "team" ? picked : null });
            }}
          >
            <option value="">Choose…</option>
            <optgroup label="Agents">
              {agents.map((a) => (
                <option key={a.id} value={`agent:${a.id}`}>
                  {a.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Teams">
              {teams.map((t) => (
                <option key={t.id} value={`team:${t.id}`}>
                  team {t.name}
                </option>
              ))}
            </optgroup>
          </select>
        </div>
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${id}-instruction`}>Instruction</Label>
        <Textarea
          id={`${id}-instruction`}
          required
          rows={3}
          className="font-mono"
          placeholder="Summarise {{ previous }}"
          value={step.instruction}
          onChange={(e) => onChange({ ...step, instruction: e.target.value })}
        />
      </div>
      <div className="flex flex-wrap items-end gap-3">
        <div className="grid gap-1">
          <Label htmlFor={`${id}-failure`}>When it fails</Label>
          <select
            id={`${id}-failure`}
            className={SELECT}
            value={step.on_failure ?? "stop"}
            onChange={(e) => onChange({ ...step, on_failure: e.target.value as OnFailure })}
          >
            <option value="stop">stop the workflow</option>
            <option value="continue">go on to the next step</option>
            <option value="retry">try again</option>
          </select>
        </div>
        {step.on_failure === "retry" ? (
          <div className="grid gap-1">
            <Label htmlFor={`${id}-retries`}>Tries again up to</Label>
            <Input
              id={`${id}-retries`}
              type="number"
              min={1}
              max={10}
              className="w-24"
              value={step.max_retries ?? 1}
              onChange={(e) => onChange({ ...step, max_retries: Number(e.target.value) })}
            />
          </div>
        ) : null}
      </div>
    </li>
  );
}
