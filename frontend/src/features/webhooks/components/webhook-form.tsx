import { type FormEvent, useState } from "react";

import { type TargetFields, targetFields, targetKey } from "@/api/targets";
import { TargetSelect } from "@/components/target-select";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";

import type { Webhook } from "../api/webhooks";

export type WebhookFields = TargetFields & { name: string; instruction: string; enabled: boolean };

/** A webhook's name, who handles its deliveries (an agent, a team, a workflow or Angie herself)
 * and what to do with each one. */
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
  const [name, setName] = useState(hook?.name ?? "");
  const [target, setTarget] = useState(hook ? targetKey(hook) : "");
  const [instruction, setInstruction] = useState(hook?.instruction ?? "");
  const [enabled, setEnabled] = useState(hook?.enabled ?? true);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit({ name: name.trim(), ...targetFields(target), instruction, enabled });
  };
  return (
    <form onSubmit={submit} className="grid gap-3" aria-label={hook ? `Edit ${hook.name}` : "New webhook"}>
      <div className="flex flex-wrap items-end gap-2">
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-name`}>Webhook name</Label>
          <Input id={`${prefix}-name`} required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="doorbell" />
        </div>
        <div className="grid gap-1">
          <Label htmlFor={`${prefix}-target`}>Who handles it</Label>
          <TargetSelect id={`${prefix}-target`} value={target} onChange={setTarget} />
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
