import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { cn, when } from "@/lib/utils";

import { usePrompt, usePrompts, useSavePrompt } from "../api/account";

function Editor({ name, body, version }: { name: string; body: string; version: number }) {
  const [text, setText] = useState(body);
  const save = useSavePrompt(name);
  const prompt = usePrompt(name);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(text);
  };
  return (
    <form onSubmit={submit} className="grid gap-2" aria-label={`Prompt ${name}`}>
      <Label htmlFor="prompt-body">
        {name} <span className="font-normal text-muted-foreground">(version {version})</span>
      </Label>
      <Textarea id="prompt-body" rows={12} className="font-mono" value={text} onChange={(e) => setText(e.target.value)} />
      {save.isError ? <Alert>{save.error.message}</Alert> : null}
      {save.isSuccess ? <p role="status" className="text-sm text-muted-foreground">Saved the {name} prompt.</p> : null}
      <div>
        <Button type="submit" disabled={save.isPending || text === body}>
          Save the {name} prompt
        </Button>
      </div>
      {prompt.data?.rendered ? (
        <details className="text-sm">
          <summary className="cursor-pointer">As Angie reads it</summary>
          <pre className="mt-2 whitespace-pre-wrap rounded-md bg-muted p-2">{prompt.data.rendered}</pre>
        </details>
      ) : null}
    </form>
  );
}

/** Your USER_PROMPTS: what Angie knows of you, one document at a time. */
export function Prompts() {
  const prompts = usePrompts();
  const [picked, setPicked] = useState<string | null>(null);
  const name = picked ?? prompts.data?.items[0]?.name ?? null;
  const current = prompts.data?.items.find((p) => p.name === name);
  return (
    <section aria-labelledby="prompts" className="grid gap-3">
      <h2 id="prompts" className="text-lg font-semibold">
        Your prompts
      </h2>
      <p className="text-sm text-muted-foreground">What Angie knows of you and how you like things done; she reads these in every conversation.</p>
      {prompts.isError ? <Alert>{prompts.error.message}</Alert> : null}
      <div className="grid gap-4 md:grid-cols-[12rem_1fr]">
        <ul className="flex flex-wrap gap-1 md:flex-col" aria-label="Prompt documents">
          {prompts.data?.items.map((p) => (
            <li key={p.name}>
              <button
                type="button"
                aria-current={p.name === name ? "true" : undefined}
                onClick={() => setPicked(p.name)}
                className={cn(
                  "w-full rounded-md px-3 py-1.5 text-left text-sm hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                  p.name === name && "bg-accent font-medium",
                )}
              >
                {p.name}
                <span className="block text-xs text-muted-foreground">
                  {p.version === 0 ? "never saved" : `v${p.version} · ${when(p.created_at)}`}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {current ? <Editor key={current.name} name={current.name} body={current.body} version={current.version} /> : null}
      </div>
    </section>
  );
}
