import { type FormEvent, useState } from "react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";

import { useAgentChoices, type Webhook } from "../api/webhooks";

export type WebhookFields = { name: string; agent_id: number | null; instruction: string; enabled: boolean };

/** A webhook's name, the agent it hands deliveries to and what to do with each one. */
export function WebhookForm({
  prefix,
  hook,
  submitLabel,
  pending,
  onSubmit,
  onCancel,
}: {
  prefix: string;
  hook?: Webhook;
  submitLabel: string;
  pending: boolean;
  onSubmit: (fields: WebhookFields) => void;
  onCancel?: () => void;
}) {
  const agents = useAgentChoices();
  const [name, setName] = useState(hook?.name ?? "");
  const [agent, setAgent] = useState(hook?.agent_id ? String(hook.agent_id) : "");
  const [instruction, setInstruction] = useState(hook?.instruction ?? "");
  const [enabled, setEnabled] = useState(hook?.enabled ?? true);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit({ name: name.trim(), agent_id: agent ? Number(agent) : null, instruction, enabled });
  };
  return (
    <form onSubmit={submit} className="grid gap-3" aria-label={hook ? `Edit ${hook.name}` : "New webhook"}>
      <div className="flex flex-wrap items-end gap-2">
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-name`}>Webhook name</Label>
          <Input id={`${prefix}-name`} required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="doorbell" />
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-agent`}>Agent</Label>
          <select
            id={`${prefix}-agent`}
            className="h-9 rounded-md border border-input bg-background px-2 text-sm"
            value={agent}
            onChange={(e) => setAgent(e.target.value)}
          >
            <option value="">Angie decides</option>
            {agents.data?.items.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <label className="flex h-9 items-center gap-2 text-sm">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          Enabled
        </label>
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${prefix}-instruction`}>What to do with each delivery</Label>
        <Textarea
          id={`${prefix}-instruction`}
          maxLength={10_000}
          value={instruction}
          onChange={(e) => setInstruction(e.target.value)}
          placeholder="Tell me who rang the doorbell."
        />
      </div>
      <div className="flex gap-2">
        <Button type="submit" disabled={pending}>
          {submitLabel}
        </Button>
        {onCancel ? (
          <Button type="button" variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        ) : null}
      </div>
    </form>
  );
}
