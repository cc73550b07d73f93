import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";

import { allowed, toggled, useTools } from "../api/agents";

/** The chosen servers' tools, live from each server, with what each one does to the world. */
export function ToolPicker({
  servers,
  filter,
  onChange,
}: {
  servers: string[];
  filter: string[];
  onChange: (filter: string[]) => void;
}) {
  const lists = useTools(servers);
  if (servers.length === 0) return <p className="text-sm text-muted-foreground">Pick a server to see its tools.</p>;
  return (
    <div className="grid gap-3">
      {servers.map((server, index) => {
        const tools = lists[index];
        return (
          <fieldset key={server} className="grid gap-1 rounded-md border p-3">
            <legend className="px-1 text-sm font-medium">Tools of {server}</legend>
            {tools?.isPending ? <p role="status" className="text-sm">Asking {server} for its tools…</p> : null}
            {tools?.isError ? <Alert>{tools.error.message}</Alert> : null}
            {tools?.data?.map((tool) => {
              const id = `tool-${tool.prefixed_name}`;
              return (
                <div key={tool.prefixed_name} className="flex flex-wrap items-start gap-2 py-1 text-sm">
                  <input
                    id={id}
                    type="checkbox"
                    className="mt-0.5 size-4"
                    aria-describedby={`${id}-about`}
                    checked={allowed(tool.prefixed_name, filter)}
                    onChange={(event) => onChange(toggled(filter, tool.prefixed_name, event.target.checked))}
                  />
                  <span className="grid min-w-0 flex-1 gap-0.5">
                    <label htmlFor={id} className="font-medium">
                      {tool.title ?? tool.name} <code className="text-xs text-muted-foreground">{tool.prefixed_name}</code>
                    </label>
                    <span id={`${id}-about`} className="text-muted-foreground">
                      {tool.description}
                    </span>
                  </span>
                  <span className="flex flex-wrap gap-1">
                    {tool.read_only ? <Badge variant="secondary">reads only</Badge> : null}
                    {tool.destructive ? <Badge variant="destructive">destructive</Badge> : null}
                    {!tool.read_only && !tool.destructive ? <Badge variant="outline">changes things</Badge> : null}
                    {tool.annotations.idempotentHint === true ? <Badge variant="outline">idempotent</Badge> : null}
                    {tool.annotations.openWorldHint === true ? <Badge variant="outline">reaches outside</Badge> : null}
                    <Badge variant="outline">approval: {tool.decision}</Badge>
                  </span>
                </div>
              );
            })}
          </fieldset>
        );
      })}
    </div>
  );
}
