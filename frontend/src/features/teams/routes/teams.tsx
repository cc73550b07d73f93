import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { Button } from "@/components/ui/button";

import { useDeleteTeam, useTeams } from "../api/teams";
import { TeamForm } from "../components/team-form";

export function TeamsPage() {
  const teams = useTeams();
  const remove = useDeleteTeam();
  // The team being edited: its id, "new", or none.
  const [editing, setEditing] = useState<number | "new" | null>(null);
  return (
    <section className="grid max-w-3xl gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-xl font-semibold">Teams</h1>
        <Button onClick={() => setEditing("new")} disabled={editing === "new"}>
          New team
        </Button>
      </div>
      <p className="text-sm text-muted-foreground">
        A team groups agents: Angie asks the team, and the team hands the work to its members in this order.
      </p>
      {editing === "new" ? <TeamForm onDone={() => setEditing(null)} /> : null}
      {teams.isError ? <Alert>{teams.error.message}</Alert> : null}
      {remove.isError ? <Alert>{remove.error.message}</Alert> : null}
      {teams.data?.items.length === 0 ? <p className="text-muted-foreground">No teams yet.</p> : null}
      <ul className="grid gap-3">
        {teams.data?.items.map((team) =>
          editing === team.id ? (
            <li key={team.id}>
              <TeamForm team={team} onDone={() => setEditing(null)} />
            </li>
          ) : (
            <li key={team.id} className="grid gap-1 rounded-md border p-3">
              <div className="flex flex-wrap items-center gap-2">
                <h2 className="font-medium">{team.name}</h2>
                {team.enabled ? null : <Badge variant="outline">disabled</Badge>}
                {team.available ? null : <Badge variant="destructive">unavailable</Badge>}
                <span className="flex-1" />
                <Button variant="outline" size="sm" aria-label={`Edit ${team.name}`} onClick={() => setEditing(team.id)}>
                  Edit
                </Button>
                {team.builtin ? null : (
                  <ConfirmButton
                    variant="ghost"
                    size="sm"
                    aria-label={`Delete ${team.name}`}
                    title={`Delete the team ${team.name}?`}
                    description="Its agents stay; the team and its order are gone for good."
                    confirmLabel="Delete team"
                    onConfirm={() => remove.mutate(team.id)}
                  >
                    Delete
                  </ConfirmButton>
                )}
              </div>
              <p className="text-sm text-muted-foreground">{team.description}</p>
              <p className="text-sm">{team.members.map((m) => m.name).join(" → ")}</p>
            </li>
          ),
        )}
      </ul>
    </section>
  );
}
