import { ShieldQuestion } from "lucide-react";

import { useDecision } from "@/api/approvals";
import { ConfirmButton } from "@/components/confirm-button";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";

export interface ApprovalAsk {
  id: number;
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  askedBecause?: string | null;
  expiresAt?: string | null;
  status?: string;
}

/** A side-effecting call waiting for the person's yes or no, with the exact arguments. */
export function ApprovalCard({ ask }: { ask: ApprovalAsk }) {
  const decision = useDecision(ask.id);
  const decided =
    decision.isSuccess ? decision.data.status : ask.status && ask.status !== "pending" ? ask.status : null;
  const titleId = `approval-${ask.id}-title`;
  return (
    <Card role="group" aria-labelledby={titleId} className="border-amber-500/50">
      <CardHeader className="pb-2">
        <CardTitle id={titleId} className="flex items-center gap-2 text-base">
          <ShieldQuestion className="size-4" aria-hidden />
          Approve {ask.server}.{ask.tool}?
        </CardTitle>
        {ask.askedBecause ? (
          <p className="text-sm text-muted-foreground">{ask.askedBecause}</p>
        ) : null}
      </CardHeader>
      <CardContent>
        <pre className="overflow-x-auto rounded bg-muted p-2 text-xs">
          {JSON.stringify(ask.arguments, null, 2)}
        </pre>
        {decision.isError ? <Alert className="mt-2">{decision.error.message}</Alert> : null}
      </CardContent>
      <CardFooter>
        {decided ? (
          <Badge variant={decided === "approved" ? "success" : "destructive"} role="status">
            {decided === "approved" ? "Approved" : decided === "denied" ? "Denied" : decided}
          </Badge>
        ) : (
          <>
            <Button size="sm" disabled={decision.isPending} onClick={() => decision.mutate(true)}>
              Approve
            </Button>
            <ConfirmButton
              size="sm"
              variant="outline"
              disabled={decision.isPending}
              title={`Deny ${ask.server}.${ask.tool}?`}
              description="Your answer is final: Angie will not make this call for the task."
              confirmLabel="Deny the call"
              onConfirm={() => decision.mutate(false)}
            >
              Deny
            </ConfirmButton>
          </>
        )}
      </CardFooter>
    </Card>
  );
}
