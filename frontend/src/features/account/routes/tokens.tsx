import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { when } from "@/lib/utils";

import { useCreateToken, useRevokeToken, useTokens } from "../api/account";

export function TokensPage() {
  const tokens = useTokens();
  const create = useCreateToken();
  const revoke = useRevokeToken();
  const [name, setName] = useState("");
  const [days, setDays] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), expires_in_days: days ? Number(days) : null },
      { onSuccess: () => { setName(""); setDays(""); } },
    );
  };
  return (
    <section className="grid max-w-3xl gap-4">
      <h1 className="text-xl font-semibold">API tokens</h1>
      <p className="text-sm text-muted-foreground">
        A token lets a script or another app use Angie's API as you: send it as <code>Authorization: Bearer …</code>.
      </p>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="New token">
        <div className="grid gap-1">
          <Label htmlFor="token-name">Token name</Label>
          <Input id="token-name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="home assistant" />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="token-days">Expires after (days; blank: never)</Label>
          <Input id="token-days" type="number" min={1} className="w-32" value={days} onChange={(e) => setDays(e.target.value)} />
        </div>
        <Button type="submit" disabled={create.isPending}>
          Create token
        </Button>
      </form>
      {create.isError ? <Alert>{create.error.message}</Alert> : null}
      {create.data ? (
        <div role="status" className="grid gap-1 rounded-md border border-success/40 bg-success/10 p-3 text-sm">
          <p>Copy the token {create.data.name} now: Angie shows it only once.</p>
          <code className="break-all rounded bg-background px-2 py-1" data-testid="new-token">
            {create.data.token}
          </code>
        </div>
      ) : null}
      {tokens.isError ? <Alert>{tokens.error.message}</Alert> : null}
      {revoke.isError ? <Alert>{revoke.error.message}</Alert> : null}
      {tokens.data?.items.length === 0 ? <p className="text-muted-foreground">No tokens yet.</p> : null}
      <ul className="divide-y rounded-md border" aria-label="Tokens">
        {tokens.data?.items.map((token) => (
          <li key={token.id} className="flex flex-wrap items-center gap-2 px-3 py-2 text-sm">
            <span className="font-medium">{token.name}</span>
            <code className="text-xs text-muted-foreground">{token.prefix}…</code>
            {token.revoked_at ? <Badge variant="outline">revoked</Badge> : null}
            <span className="flex-1 text-xs text-muted-foreground">
              made {when(token.created_at)}
              {token.last_used_at ? ` · used ${when(token.last_used_at)}` : " · never used"}
              {token.expires_at ? ` · expires ${when(token.expires_at)}` : ""}
            </span>
            {token.revoked_at ? null : (
              <ConfirmButton
                variant="ghost"
                size="sm"
                aria-label={`Revoke ${token.name}`}
                title={`Revoke the token ${token.name}?`}
                description="Whatever uses it stops working at once."
                confirmLabel="Revoke token"
                onConfirm={() => revoke.mutate(token.id)}
              >
                Revoke
              </ConfirmButton>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
