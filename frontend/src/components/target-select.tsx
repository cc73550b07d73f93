import { useTargets } from "@/api/targets";

/** A select of who does the work, its value a `targetKey` ("" for Angie herself). */
export function TargetSelect({ id, value, onChange }: { id: string; value: string; onChange: (value: string) => void }) {
  const targets = useTargets();
  return (
    <select
      id={id}
      className="h-9 rounded-md border border-input bg-background px-2 text-sm"
      value={value}
      onChange={(e) => onChange(e.target.value)}
    >
      <option value="">Angie herself</option>
      <optgroup label="Agents">
        {targets.agents.map((a) => (
          <option key={a.id} value={`agent:${a.id}`}>{a.name}</option>
        ))}
      </optgroup>
      <optgroup label="Teams">
        {targets.teams.map((t) => (
          <option key={t.id} value={`team:${t.id}`}>team {t.name}</option>
        ))}
      </optgroup>
      <optgroup label="Workflows">
        {targets.workflows.map((w) => (
          <option key={w.id} value={`workflow:${w.id}`}>workflow {w.name}</option>
        ))}
      </optgroup>
    </select>
  );
}
