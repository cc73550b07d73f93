import { useId, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

import { type Server, useCancelSignIn, usePasteSignIn, useSignIn, useStartSignIn } from "../api/mcp";

// Credentials whose name says they are secret are typed into a password field.
const SECRET = /password|token|secret|key/i;

/** Connect an account of the person's from the browser: Angie runs the server's own sign-in on
 * her machine, the page shows what it says and passes back what the person gives it. */
export function ConnectAccount({ server }: { server: Server }) {
  const ids = useId();
  const start = useStartSignIn();
  const [signInId, setSignInId] = useState<string | null>(null);
  const [label, setLabel] = useState("");
  const [typed, setTyped] = useState<Record<string, string>>({});

  if (signInId !== null) {
    return <SignInProgress server={server} id={signInId} onDone={() => setSignInId(null)} />;
  }
  return (
    <form
      className="grid gap-2 rounded-md border p-3"
      aria-label={`Connect a ${server.name} account`}
      onSubmit={(event) => {
        event.preventDefault();
        start.mutate(
          { server: server.name, label: label.trim() || server.name, credentials: typed },
          { onSuccess: (found) => setSignInId(found.id) },
        );
      }}
    >
      <div className="grid gap-1">
        <Label htmlFor={`${ids}-label`}>What you call it</Label>
        <Input
          id={`${ids}-label`}
          value={label}
          maxLength={120}
          placeholder={`the address, work (default: ${server.name})`}
          onChange={(event) => setLabel(event.target.value)}
        />
      </div>
      {(server.typed_credentials ?? []).map((name) => (
        <div key={name} className="grid gap-1">
          <Label htmlFor={`${ids}-${name}`}>{name.replaceAll("_", " ")}</Label>
          <Input
            id={`${ids}-${name}`}
            type={SECRET.test(name) ? "password" : "text"}
            autoComplete="off"
            required
            value={typed[name] ?? ""}
            onChange={(event) => setTyped({ ...typed, [name]: event.target.value })}
          />
        </div>
      ))}
      <div>
        <Button type="submit" size="sm" disabled={start.isPending}>
          {start.isPending ? "Starting…" : `Connect ${server.name}`}
        </Button>
      </div>
      {start.isError ? <Alert>{start.error.message}</Alert> : null}
    </form>
  );
}

function SignInProgress({ server, id, onDone }: { server: Server; id: string; onDone: () => void }) {
  const ids = useId();
  const signIn = useSignIn(id);
  const paste = usePasteSignIn(id);
  const cancel = useCancelSignIn();
  const [address, setAddress] = useState("");
  const found = signIn.data;
  if (!found) return <p className="text-sm text-muted-foreground">Starting the {server.name} sign-in…</p>;
  return (
    <div className="grid gap-2 rounded-md border p-3 text-sm" role="status" aria-live="polite">
      {found.state === "connected" ? (
        <p className="font-medium">
          {server.name} account {found.label} connected.{" "}
          <Button variant="link" size="sm" className="h-auto p-0" onClick={onDone}>
            Done
          </Button>
        </p>
      ) : null}
      {found.state === "failed" ? (
        <>
          <Alert>The sign-in failed: {found.error}. No account was kept.</Alert>
          <div>
            <Button size="sm" variant="outline" onClick={onDone}>
              Try again
            </Button>
          </div>
        </>
      ) : null}
      {found.state === "waiting" ? (
        <>
          <ul className="grid gap-1">
            {found.instructions.map((line, index) => (
              <li key={index} className="break-all text-muted-foreground">
                {line}
              </li>
            ))}
          </ul>
          {found.links.map((link) => (
            <a key={link} className="font-medium underline" href={link} target="_blank" rel="noopener noreferrer">
              Open the {server.name} sign-in page
            </a>
          ))}
          {found.can_paste ? (
            <form
              className="grid gap-1"
              onSubmit={(event) => {
                event.preventDefault();
                paste.mutate(address.trim());
              }}
            >
              <Label htmlFor={`${ids}-paste`}>
                On another device, the last page may not load: paste its address here
              </Label>
              <div className="flex gap-2">
                <Input
                  id={`${ids}-paste`}
                  value={address}
                  placeholder="http://127.0.0.1:…/?code=…"
                  onChange={(event) => setAddress(event.target.value)}
                />
                <Button type="submit" size="sm" disabled={!address.trim() || paste.isPending}>
                  Send
                </Button>
              </div>
              {paste.isError ? <Alert>{paste.error.message}</Alert> : null}
            </form>
          ) : null}
          <div>
            <Button
              size="sm"
              variant="ghost"
              onClick={() => cancel.mutate(id, { onSettled: onDone })}
              disabled={cancel.isPending}
            >
              Cancel
            </Button>
          </div>
        </>
      ) : null}
    </div>
  );
}
