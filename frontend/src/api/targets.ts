// Who does a piece of work: an agent, a team, a workflow, or Angie herself. Shared by the forms
// that name one (crons, webhooks).
import { useQuery } from "@tanstack/react-query";

import { api, data } from "./client";

export type TargetFields = { agent_id: number | null; team_id: number | null; workflow_id: number | null };

/** "agent:3", "team:2", "workflow:5", or "" for Angie herself: one value for a select. */
export function targetKey(row: Partial<TargetFields>): string {
  if (row.agent_id) return `agent:${row.agent_id}`;
  if (row.team_id) return `team:${row.team_id}`;
  if (row.workflow_id) return `workflow:${row.workflow_id}`;
  return "";
}

/** The body fields a select's value names (all three, the others null). */
export function targetFields(key: string): TargetFields {
  const [kind, value] = key.split(":");
  const id = value ? Number(value) : null;
  return {
    agent_id: kind === "agent" ? id : null,
    team_id: kind === "team" ? id : null,
    workflow_id: kind === "workflow" ? id : null,
  };
}

/** What the person may hand work to: the household's agents, teams and workflows and their own. */
export function useTargets() {
  const agents = useQuery({
    queryKey: ["agents"],
    queryFn: () => data(api.GET("/api/agents", { params: { query: { limit: 200, sort: "name" } } })),
  });
  const teams = useQuery({
    queryKey: ["teams"],
    queryFn: () => data(api.GET("/api/teams", { params: { query: { limit: 200 } } })),
  });
  const workflows = useQuery({
    queryKey: ["workflows"],
    queryFn: () => data(api.GET("/api/workflows", { params: { query: { limit: 200 } } })),
  });
  return {
    agents: agents.data?.items ?? [],
    teams: teams.data?.items ?? [],
    workflows: workflows.data?.items ?? [],
    error: agents.error ?? teams.error ?? workflows.error,
  };
}
