import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { when } from "@/lib/utils";

import { type Member, useCreateInvite, useInvites, useMe, useMembers, useUpdateMember, useWithdrawInvite } from "../api/household";

function MemberRow({ member, me }: { member: Member; me: number }) {
  const update = useUpdateMember();
  const name = member.display_name || member.email;
  const self = member.id === me;
  return (
    <li className="grid gap-1 px-3 py-2 text-sm">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{name}</span>
        <span className="text-xs text-muted-foreground">{member.email}</span>
        {member.is_admin ? <Badge>admin</Badge> : null}
        {member.is_active ? null : <Badge variant="outline">deactivated</Badge>}
        <span className="flex-1 text-xs text-muted-foreground">
          {member.last_login_at ? `signed in ${when(member.last_login_at)}` : "never signed in"}
        </span>
        {self ? (
          <span className="text-xs text-muted-foreground">you</span>
        ) : (
          <>
            <Button
              variant="ghost"
              size="sm"
              aria-label={member.is_admin ? `Make member: ${name}` : `Make admin: ${name}`}
              disabled={update.isPending}
              onClick={() => update.mutate({ id: member.id, body: { is_admin: !member.is_admin } })}
            >
              {member.is_admin ? "Make member" : "Make admin"}
            </Button>
            {member.is_active ? (
              <ConfirmButton
                variant="ghost"
                size="sm"
                aria-label={`Deactivate ${name}`}
                title={`Deactivate ${name}?`}
                description="They can no longer sign in; their tokens and webhooks stop, their crons pause. Reactivating turns none of it back on."
                confirmLabel="Deactivate"
                onConfirm={() => update.mutate({ id: member.id, body: { is_active: false } })}
              >
                Deactivate
              </ConfirmButton>
            ) : (
              <Button variant="ghost" size="sm" aria-label={`Reactivate ${name}`} onClick={() => update.mutate({ id: member.id, body: { is_active: true } })}>
                Reactivate
              </Button>
            )}
          </>
        )}
      </div>
      {update.isError ? <Alert>{update.error.message}</Alert> : null}
    </li>
  );
}

function Invites() {
  const invites = useInvites(true);
  const create = useCreateInvite();
  const withdraw = useWithdrawInvite();
  const [email, setEmail] = useState("");
  const [admin, setAdmin] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ email: email.trim() || null, is_admin: admin }, { onSuccess: () => { setEmail(""); setAdmin(false); } });
  };
  const link = create.data ? new URL(`/invite/${encodeURIComponent(create.data.code)}`, window.location.origin).toString() : "";
  return (
    <section className="grid gap-3" aria-labelledby="invites-heading">
      <h2 id="invites-heading" className="text-lg font-semibold">
        Invitations
      </h2>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="New invitation">
        <div className="grid gap-1">
          <Label htmlFor="invite-email">Their email (optional)</Label>
          <Input id="invite-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="alex@home.test" />
        </div>
        <label className="flex h-9 items-center gap-2 text-sm">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
          As an admin
        </label>
        <Button type="submit" disabled={create.isPending}>
          Create invitation
        </Button>
      </form>
      {create.isError ? <Alert>{create.error.message}</Alert> : null}
      {create.data ? (
        <div role="status" className="grid gap-2 rounded-md border border-success/40 bg-success/10 p-3 text-sm">
          <p>Send this link now: Angie shows it only once. It works once, until {when(create.data.expires_at)}.</p>
          <div className="flex flex-wrap items-center gap-2">
            <code className="break-all rounded bg-background px-2 py-1" data-testid="invite-link">
              {link}
            </code>
            <CopyButton value={link} label="Copy the invitation link" />
          </div>
        </div>
      ) : null}
      {invites.isError ? <Alert>{invites.error.message}</Alert> : null}
      {withdraw.isError ? <Alert>{withdraw.error.message}</Alert> : null}
      {invites.data?.items.length === 0 ? <p className="text-muted-foreground">No invitations.</p> : null}
      <ul className="divide-y rounded-md border" aria-label="Invitations">
        {invites.data?.items.map((invite) => {
          const who = invite.email ?? "anyone with the link";
          return (
            <li key={invite.id} className="flex flex-wrap items-center gap-2 px-3 py-2 text-sm">
              <span className="font-medium">{who}</span>
              {invite.is_admin ? <Badge>admin</Badge> : null}
              {invite.used_at ? <Badge variant="outline">used</Badge> : null}
              <span className="flex-1 text-xs text-muted-foreground">
                made {when(invite.created_at)}
                {invite.used_at ? ` · used ${when(invite.used_at)}` : ` · expires ${when(invite.expires_at)}`}
              </span>
              {invite.used_at ? null : (
                <ConfirmButton
                  variant="ghost"
                  size="sm"
                  aria-label={`Withdraw the invitation for ${who}`}
                  title={`Withdraw the invitation for ${who}?`}
                  description="Its link stops working at once."
                  confirmLabel="Withdraw invitation"
                  onConfirm={() => withdraw.mutate(invite.id)}
                >
                  Withdraw
                </ConfirmButton>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function HouseholdPage() {
  const me = useMe();
  const admin = me.data?.is_admin ?? false;
  const members = useMembers(admin);
  if (me.isError) return <Alert>{me.error.message}</Alert>;
  if (!me.data) return null;
  if (!admin) {
    return (
      <section className="grid max-w-3xl gap-2">
        <h1 className="text-xl font-semibold">Household</h1>
        <p className="text-muted-foreground">Only the household's admins manage its people and invitations. Ask one of them.</p>
      </section>
    );
  }
  return (
    <section className="grid max-w-3xl gap-4">
      <h1 className="text-xl font-semibold">Household</h1>
      <p className="text-sm text-muted-foreground">The people who share this Angie. Each sees only their own things.</p>
      {members.isError ? <Alert>{members.error.message}</Alert> : null}
      <ul className="divide-y rounded-md border" aria-label="People">
        {members.data?.items.map((member) => (
          <MemberRow key={member.id} member={member} me={me.data.id} />
        ))}
      </ul>
      <Invites />
    </section>
  );
}
