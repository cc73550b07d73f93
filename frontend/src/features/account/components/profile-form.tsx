import { type FormEvent, useState } from "react";

import type { Schemas } from "@/api/client";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

import { useSaveMe } from "../api/account";

/** Your name as Angie shows it, what she calls you, and your timezone. */
export function ProfileForm({ me }: { me: Schemas["UserOut"] }) {
  const save = useSaveMe();
  const [form, setForm] = useState({
    display_name: me.display_name,
    preferred_name: me.preferred_name ?? "",
    timezone: me.timezone,
  });
  const set = (change: Partial<typeof form>) => setForm((old) => ({ ...old, ...change }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      display_name: form.display_name.trim(),
      preferred_name: form.preferred_name.trim() || null,
      timezone: form.timezone.trim(),
    });
  };
  return (
    <form onSubmit={submit} className="grid gap-3" aria-labelledby="profile">
      <h2 id="profile" className="text-lg font-semibold">
        Profile
      </h2>
      <p className="text-sm text-muted-foreground">{me.email}</p>
      <div className="grid gap-3 sm:grid-cols-3">
        <div className="grid gap-1">
          <Label htmlFor="me-name">Your name</Label>
          <Input id="me-name" value={form.display_name} onChange={(e) => set({ display_name: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="me-preferred">What Angie calls you</Label>
          <Input id="me-preferred" value={form.preferred_name} onChange={(e) => set({ preferred_name: e.target.value })} />
        </div>
        <div className="grid gap-1">
          <Label htmlFor="me-timezone">Timezone</Label>
          <Input id="me-timezone" value={form.timezone} onChange={(e) => set({ timezone: e.target.value })} />
        </div>
      </div>
      {save.isError ? <Alert>{save.error.message}</Alert> : null}
      {save.isSuccess ? <p role="status" className="text-sm text-muted-foreground">Profile saved.</p> : null}
      <div>
        <Button type="submit" disabled={save.isPending}>
          Save profile
        </Button>
      </div>
    </form>
  );
}
