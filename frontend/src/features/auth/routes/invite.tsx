import { type FormEvent, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { session } from "@/api/session";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

import { registerInvited } from "../api/register";
import { AuthCard, Field } from "../components/auth-card";

export function InvitePage() {
  const navigate = useNavigate();
  const { token = "" } = useParams();
  const [form, setForm] = useState({ email: "", password: "", displayName: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const change = (name: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm({ ...form, [name]: event.target.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await registerInvited({ ...form, inviteCode: token });
      await session.signIn(form.email, form.password);
      navigate("/welcome", { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title="You are invited"
      description="Create your account on this household's Angie. The invitation works once and for seven days."
    >
      <form className="grid gap-4" onSubmit={(event) => void submit(event)}>
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
    </AuthCard>
  );
}
