import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { when } from "@/lib/utils";

import { useIdentities, useLink, usePrefer, useUnlink } from "../api/channels";

/** Who Angie answers as you on each platform, and the pairing code that links one more. */
export function Identities() {
  const identities = useIdentities();
  const link = useLink();
  const unlink = useUnlink();
  const prefer = usePrefer();
  const [code, setCode] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    link.mutate(code.trim(), { onSuccess: () => setCode("") });
  };
  const failed = unlink.error ?? prefer.error;
  return (
    <section aria-labelledby="identities" className="grid gap-3">
      <h2 id="identities" className="text-lg font-semibold">
        Linked identities
      </h2>
      {identities.isError ? <Alert>{identities.error.message}</Alert> : null}
      {identities.data?.items.length === 0 ? (
        <p className="text-muted-foreground">
          None yet. Write to Angie on a channel: she answers with a pairing code to type below.
        </p>
      ) : null}
      <ul className="divide-y rounded-md border">
        {identities.data?.items.map((identity) => (
          <li key={identity.id} className="flex flex-wrap items-center gap-2 px-3 py-2">
            <span className="font-medium">{identity.channel}</span>
            <span className="min-w-0 flex-1 truncate">{identity.display ?? identity.external_id}</span>
            {identity.preferred ? <Badge variant="success">crons reach me here</Badge> : null}
            <span className="text-xs text-muted-foreground">
              {identity.last_seen_at ? `seen ${when(identity.last_seen_at)}` : `linked ${when(identity.created_at)}`}
            </span>
            {identity.preferred ? null : (
              <Button
                variant="outline"
                size="sm"
                aria-label={`Crons reach me on ${identity.channel} as ${identity.display ?? identity.external_id}`}
                onClick={() => prefer.mutate(identity.id)}
              >
                Crons reach me here
              </Button>
            )}
            <Button
              variant="ghost"
              size="sm"
              aria-label={`Unlink ${identity.channel} ${identity.display ?? identity.external_id}`}
              onClick={() => unlink.mutate(identity.id)}
            >
              Unlink
            </Button>
          </li>
        ))}
      </ul>
      {failed ? <Alert>{failed.message}</Alert> : null}
      <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="Link an identity">
        <div className="grid gap-1">
          <Label htmlFor="pairing-code">Pairing code</Label>
          <Input
            id="pairing-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(event) => setCode(event.target.value)}
            className="w-40"
          />
        </div>
        <Button type="submit" disabled={!code.trim() || link.isPending}>
          Link
        </Button>
      </form>
      {link.isError ? <Alert>{link.error.message}</Alert> : null}
      {link.data ? (
        <p role="status" className="text-sm text-muted-foreground">
          Linked {link.data.channel} {link.data.display ?? link.data.external_id}.
        </p>
      ) : null}
    </section>
  );
}
