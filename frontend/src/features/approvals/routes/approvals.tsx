import { Link } from "react-router";

import { ApprovalCard } from "@/components/approval-card";
import { Alert } from "@/components/ui/alert";
import { when } from "@/lib/utils";

import { usePendingApprovals } from "../api/approvals";

export function ApprovalsPage() {
  const approvals = usePendingApprovals();
  return (
    <section className="grid max-w-3xl gap-4">
      <h1 className="text-xl font-semibold">Approvals</h1>
      {approvals.isError ? <Alert>{approvals.error.message}</Alert> : null}
      {approvals.data?.items.length === 0 ? (
        <p className="text-muted-foreground">Nothing waits for your answer.</p>
      ) : null}
      <ul className="grid gap-4">
        {approvals.data?.items.map((approval) => (
          <li key={approval.id} className="grid gap-1">
            <ApprovalCard
              ask={{
                id: approval.id,
                server: approval.server,
                tool: approval.tool,
                arguments: approval.arguments,
                askedBecause: approval.asked_because,
                status: approval.status,
              }}
            />
            <p className="text-xs text-muted-foreground">
              For <Link to={`/tasks/${approval.task_id}`} className="underline">task #{approval.task_id}</Link>
              {" · "}asked {when(approval.created_at)} · expires {when(approval.expires_at)}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
