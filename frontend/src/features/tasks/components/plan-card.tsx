import { Link } from "react-router";

import type { Schemas } from "@/api/client";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";

type Plan = Schemas["PlanOut"];

const STEP_TONE: Record<string, string> = {
  succeeded: "text-success",
  failed: "text-destructive",
  running: "font-medium",
  waiting: "text-muted-foreground",
};

/** A plan Angie made: its goal, and each step in the order it runs, with who does it, what it
 * waits for, how it went and its task. */
export function PlanCard({ plan }: { plan: Plan }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2 text-base">
          Plan: {plan.goal}
          <Badge variant="outline">{plan.status}</Badge>
        </CardTitle>
      </CardHeader>
      <CardContent>
        <ol className="grid gap-2" aria-label={`Steps of the plan ${plan.goal}`}>
          {plan.steps.map((step, index) => (
            <li key={step.name} className="grid gap-0.5 text-sm">
              <span>
                <span className="font-medium">
                  {index + 1}. {step.name}
                </span>{" "}
                <span className="text-muted-foreground">by {step.ask}</span>
                {step.after.length ? (
                  <span className="text-muted-foreground"> · after {step.after.join(", ")}</span>
                ) : null}{" "}
                <span className={STEP_TONE[step.status] ?? ""}>{step.status}</span>
                {step.task_id != null ? (
                  <>
                    {" "}
                    <Link to={`/tasks/${step.task_id}`} className="underline">
                      task #{step.task_id}
                    </Link>
                  </>
                ) : null}
              </span>
              <span className="text-muted-foreground">{step.request}</span>
            </li>
          ))}
        </ol>
      </CardContent>
    </Card>
  );
}
