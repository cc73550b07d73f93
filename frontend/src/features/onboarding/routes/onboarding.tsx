import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { useSession } from "@/hooks/use-session";

import { shown, type Topic, useAnswer, useInterview } from "../api/onboarding";
import { startTour } from "../components/tour-state";

/** The setup interview, Angie's questions a topic at a time (the same as `angie setup`);
 * each topic is saved as it is answered, so it can be left and taken up again. */
export function OnboardingPage() {
  const interview = useInterview();
  const navigate = useNavigate();
  const state = useSession();
  const [index, setIndex] = useState<number | null>(null);
  if (interview.isPending) return <p role="status">Loading…</p>;
  if (interview.isError) return <Alert>{interview.error.message}</Alert>;
  const topics = interview.data.topics;
  // Resume at the first topic not answered yet.
  const first = topics.findIndex((t) => !t.answered);
  const at = index ?? (first === -1 ? 0 : first);
  const topic = topics[at];
  const finish = () => {
    if (state.status === "signed-in") startTour(state.user.id);
    navigate("/chat");
  };
  if (!topic) return null;
  return (
    <section className="mx-auto grid max-w-2xl gap-4">
      <div>
        <h1 className="text-xl font-semibold">Getting to know you</h1>
        <p className="text-sm text-muted-foreground">
          Angie works from your answers; change them any time in your profile.
        </p>
      </div>
      <ol aria-label="Topics" className="flex flex-wrap gap-2 text-sm">
        {topics.map((t, i) => (
          <li key={t.name}>
            <button
              type="button"
              aria-current={i === at ? "step" : undefined}
              onClick={() => setIndex(i)}
              className={i === at ? "font-semibold underline underline-offset-4" : "text-muted-foreground"}
            >
              {t.title}
              {t.answered ? " ✓" : ""}
            </button>
          </li>
        ))}
      </ol>
      <TopicForm
        key={topic.name}
        topic={topic}
        last={at === topics.length - 1}
        onBack={at > 0 ? () => setIndex(at - 1) : undefined}
        onSaved={() => (at === topics.length - 1 ? finish() : setIndex(at + 1))}
      />
      <div>
        <Button variant="ghost" onClick={finish}>
          Skip for now
        </Button>
      </div>
    </section>
  );
}

function TopicForm({
  topic,
  last,
  onBack,
  onSaved,
}: {
  topic: Topic;
  last: boolean;
  onBack?: () => void;
  onSaved: () => void;
}) {
  const answer = useAnswer();
  const [values, setValues] = useState(() =>
    Object.fromEntries(topic.questions.map((q) => [q.key, shown(q.default)])),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    answer.mutate({ [topic.name]: values }, { onSuccess: onSaved });
  };
  return (
    <form onSubmit={submit} className="grid gap-3" aria-labelledby={`topic-${topic.name}`}>
      <h2 id={`topic-${topic.name}`} className="text-lg font-semibold">
        {topic.title}
      </h2>
      {topic.questions.map((q) => (
        <div key={q.key} className="grid gap-1">
          <Label htmlFor={`q-${topic.name}-${q.key}`}>{q.ask}</Label>
          <Input
            id={`q-${topic.name}-${q.key}`}
            value={values[q.key] ?? ""}
            maxLength={q.kind === "list" ? undefined : q.limit}
            required={!q.optional}
            onChange={(e) => setValues((old) => ({ ...old, [q.key]: e.target.value }))}
          />
        </div>
      ))}
      {answer.isError ? <Alert>{answer.error.message}</Alert> : null}
      <div className="flex gap-2">
        {onBack ? (
          <Button type="button" variant="outline" onClick={onBack}>
            Back
          </Button>
        ) : null}
        <Button type="submit" disabled={answer.isPending}>
          {last ? "Save and finish" : "Save and continue"}
        </Button>
      </div>
    </form>
  );
}
