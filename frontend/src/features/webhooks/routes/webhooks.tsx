import { useState } from "react";
import { Link } from "react-router";

import { targetKey, useTargets } from "@/api/targets";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { StatusBadge } from "@/components/status-badge";
import { Button } from "@/components/ui/button";
import { when } from "@/lib/utils";

import {
  type NewWebhook,
  useCreateWebhook,
  useDeleteWebhook,
  useDeliveries,
  useRotateWebhook,
  useUpdateWebhook,
  useWebhooks,
  type Webhook,
} from "../api/webhooks";
import { SigningRecipe } from "../components/signing-recipe";
import { WebhookForm, type WebhookFields } from "../components/webhook-form";

/** The full address a sender posts to: the API gives a path on this Angie. */
function fullUrl(path: string): string {
  return new URL(path, window.location.origin).toString();
}

function SecretOnce({ hook, verb }: { hook: NewWebhook; verb: string }) {
  return (
    <div role="status" className="grid gap-2 rounded-md border border-success/40 bg-success/10 p-3 text-sm">
      <p>
        {verb} {hook.name}. Copy its signing secret now: Angie shows it only once.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <code className="break-all rounded bg-background px-2 py-1" data-testid="new-secret">
          {hook.secret}
        </code>
        <CopyButton value={hook.secret} label={`Copy the secret of ${hook.name}`} />
      </div>
    </div>
  );
}

/** Who handles a hook's deliveries, in words. */
function useHandler(hook: Webhook): string {
  const targets = useTargets();
  if (hook.agent_id) return `agent ${targets.agents.find((a) => a.id === hook.agent_id)?.name ?? hook.agent_id}`;
  if (hook.team_id) return `team ${targets.teams.find((t) => t.id === hook.team_id)?.name ?? hook.team_id}`;
  if (hook.workflow_id) return `workflow ${targets.workflows.find((w) => w.id === hook.workflow_id)?.name ?? hook.workflow_id}`;
  return "Angie herself";
}

/** A hook's recent deliveries: when each came, its delivery id, its event and the task it started. */
function Deliveries({ hook }: { hook: Webhook }) {
  const deliveries = useDeliveries(hook.id);
  if (deliveries.isPending) return <p role="status" className="text-muted-foreground">Loading deliveries…</p>;
  if (deliveries.isError) return <Alert>{deliveries.error.message}</Alert>;
  if (deliveries.data.items.length === 0) return <p className="text-muted-foreground">No deliveries yet.</p>;
  return (
    <table className="w-full text-left text-xs" aria-label={`Recent deliveries of ${hook.name}`}>
      <thead className="text-muted-foreground">
        <tr>
          <th className="py-1 pr-2 font-medium">When</th>
          <th className="py-1 pr-2 font-medium">Delivery id</th>
          <th className="py-1 pr-2 font-medium">Event</th>
          <th className="py-1 font-medium">Task</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.data.items.map((d) => (
          <tr key={d.event_id} className="border-t align-top">
            <td className="py-1 pr-2">{when(d.received_at)}</td>
            <td className="break-all py-1 pr-2 font-mono">{d.delivery_id ?? <span className="text-muted-foreground">none sent</span>}</td>
            <td className="py-1 pr-2">
              {d.status}
              {d.error ? <span className="block text-destructive">{d.error}</span> : null}
            </td>
            <td className="py-1">
              {d.task_id ? (
                <span className="flex flex-wrap items-center gap-1">
                  <Link to={`/tasks/${d.task_id}`} className="underline">
                    Task {d.task_id}
                  </Link>
                  {d.task_status ? <StatusBadge status={d.task_status} /> : null}
                </span>
              ) : (
                <span className="text-muted-foreground">none</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WebhookRow({ hook, onRotated }: { hook: Webhook; onRotated: (hook: NewWebhook) => void }) {
  const [editing, setEditing] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const handler = useHandler(hook);
  const update = useUpdateWebhook();
  const rotate = useRotateWebhook();
  const remove = useDeleteWebhook();
  const url = fullUrl(hook.url);
  const save = (fields: WebhookFields) => {
    // The target is sent only when it changed: naming one replaces the whole target.
    const { agent_id, team_id, workflow_id, ...rest } = fields;
    const body = targetKey(fields) === targetKey(hook) ? rest : { ...rest, agent_id, team_id, workflow_id };
    update.mutate({ id: hook.id, body }, { onSuccess: () => setEditing(false) });
  };
  return (
    <li className="grid gap-2 px-3 py-3 text-sm">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{hook.name}</span>
        {hook.enabled ? null : <Badge variant="outline">disabled</Badge>}
        <span className="flex-1 text-xs text-muted-foreground">
          made {when(hook.created_at)}
          {hook.last_delivery_at ? ` · last delivery ${when(hook.last_delivery_at)}` : " · no deliveries yet"}
        </span>
        <Button
          variant="ghost"
          size="sm"
          aria-label={`Deliveries of ${hook.name}`}
          aria-expanded={showDeliveries}
          onClick={() => setShowDeliveries(!showDeliveries)}
        >
          Deliveries
        </Button>
        <Button variant="ghost" size="sm" aria-label={`Edit ${hook.name}`} aria-expanded={editing} onClick={() => setEditing(!editing)}>
          Edit
        </Button>
        <ConfirmButton
          variant="ghost"
          size="sm"
          aria-label={`Rotate secret of ${hook.name}`}
          title={`Give ${hook.name} a new secret?`}
          description="The old secret stops working at once: update the sender with the new one."
          confirmLabel="Rotate secret"
          onConfirm={() => rotate.mutate(hook.id, { onSuccess: onRotated })}
        >
          Rotate secret
        </ConfirmButton>
        <ConfirmButton
          variant="ghost"
          size="sm"
          aria-label={`Delete ${hook.name}`}
          title={`Delete the webhook ${hook.name}?`}
          description="Deliveries to its address are refused from now on."
          confirmLabel="Delete webhook"
          onConfirm={() => remove.mutate(hook.id)}
        >
          Delete
        </ConfirmButton>
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <code className="break-all text-xs" data-testid="hook-url">
          {url}
        </code>
        <CopyButton value={url} label={`Copy the address of ${hook.name}`} />
      </div>
      <p className="text-muted-foreground">
        Handled by {handler}
        {hook.instruction ? `: ${hook.instruction}` : ""}
      </p>
      {update.isError ? <Alert>{update.error.message}</Alert> : null}
      {rotate.isError ? <Alert>{rotate.error.message}</Alert> : null}
      {remove.isError ? <Alert>{remove.error.message}</Alert> : null}
      {editing ? (
        <WebhookForm prefix={`hook-${hook.id}`} hook={hook} submitLabel="Save webhook" pending={update.isPending} onSubmit={save} onCancel={() => setEditing(false)} />
      ) : null}
      {showDeliveries ? <Deliveries hook={hook} /> : null}
      <SigningRecipe url={url} />
    </li>
  );
}

export function WebhooksPage() {
  const hooks = useWebhooks();
  const create = useCreateWebhook();
  const [secret, setSecret] = useState<{ hook: NewWebhook; verb: string } | null>(null);
  const [formKey, setFormKey] = useState(0);
  const add = (fields: WebhookFields) =>
    create.mutate(fields, {
      onSuccess: (hook) => {
        setSecret({ hook, verb: "Made" });
        setFormKey(formKey + 1);
      },
    });
  return (
    <section className="grid max-w-3xl gap-4">
      <h1 className="text-xl font-semibold">Webhooks</h1>
      <p className="text-sm text-muted-foreground">
        A webhook gives another service an address to tell Angie something happened. Each delivery must be signed with
        the webhook's secret; its body reaches Angie as untrusted data.
      </p>
      <WebhookForm key={formKey} prefix="new-hook" submitLabel="Create webhook" pending={create.isPending} onSubmit={add} />
      {create.isError ? <Alert>{create.error.message}</Alert> : null}
      {secret ? <SecretOnce hook={secret.hook} verb={secret.verb} /> : null}
      {hooks.isError ? <Alert>{hooks.error.message}</Alert> : null}
      {hooks.data?.items.length === 0 ? <p className="text-muted-foreground">No webhooks yet.</p> : null}
      <ul className="divide-y rounded-md border" aria-label="Webhooks">
        {hooks.data?.items.map((hook) => (
          <WebhookRow key={hook.id} hook={hook} onRotated={(fresh) => setSecret({ hook: fresh, verb: "Rotated the secret of" })} />
        ))}
      </ul>
    </section>
  );
}
