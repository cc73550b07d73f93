import { type FormEvent, type ReactNode, useState } from "react";
import { Link, useNavigate } from "react-router";

import { session } from "@/api/session";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

import { Field } from "./auth-card";

export interface NewAccount {
  email: string;
  password: string;
  displayName: string;
}

/** A person's own account: name, email and password, after whatever proves they may have one
 * (``children``: the setup code); ``create`` makes it, then they are signed in and welcomed. */
export function NewAccountForm({
  create,
  children,
}: {
  create: (account: NewAccount) => Promise<unknown>;
  children?: ReactNode;
}) {
  const navigate = useNavigate();
  const [form, setForm] = useState<NewAccount>({ email: "", password: "", displayName: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const change = (name: keyof NewAccount) => (event: { target: { value: string } }) =>
    setForm({ ...form, [name]: event.target.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await create(form);
      await session.signIn(form.email, form.password);
      navigate("/welcome", { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <form className="grid gap-4" onSubmit={(event) => void submit(event)}>
        {children}
        <Field id="name" label="Your name">
          <Input id="name" autoComplete="name" value={form.displayName} onChange={change("displayName")} />
        </Field>
        <Field id="email" label="Email">
          <Input
            id="email"
            type="email"
            autoComplete="username"
            required
            value={form.email}
            onChange={change("email")}
          />
        </Field>
        <Field id="password" label="Password" hint="At least 8 characters.">
          <Input
            id="password"
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            aria-describedby="password-hint"
            value={form.password}
            onChange={change("password")}
          />
        </Field>
        {error ? <Alert>{error}</Alert> : null}
        <Button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </Button>
      </form>
      <p className="mt-4 text-sm text-muted-foreground">
        Have an account?{" "}
        <Link to="/sign-in" className="underline underline-offset-4">
          Sign in
        </Link>
      </p>
    </>
  );
}
