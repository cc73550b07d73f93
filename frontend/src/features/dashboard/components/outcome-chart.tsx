// Success and failure over the last days: a stacked bar a day (recharts, loaded with the first
// dashboard that shows it), with the same numbers in a table for screen readers.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { Schemas } from "@/api/client";

type Day = Schemas["DayOutcomes"];

const SERIES = [
  { key: "succeeded", label: "Succeeded", color: "hsl(142 70% 36%)" },
  { key: "failed", label: "Failed", color: "hsl(0 72% 51%)" },
  { key: "cancelled", label: "Cancelled", color: "hsl(220 9% 60%)" },
] as const;

/** "Dec 4" for 2026-12-04, read as the person's own date (no time zone shift). */
function short(day: string): string {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(year!, month! - 1, date!).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

export function OutcomeChart({ days }: { days: Day[] }) {
  const rows = days.map((day) => ({ ...day, label: short(day.day) }));
  return (
    <figure className="grid gap-2">
      <div className="h-56 w-full" aria-hidden>
        <ResponsiveContainer width="100%" height="100%">
          {/* Not focusable: the table below is what assistive technology reads. */}
          <BarChart data={rows} accessibilityLayer={false} margin={{ top: 4, right: 8, bottom: 0, left: -16 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} interval="preserveStartEnd" />
            <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
            <Tooltip />
            <Legend />
            {SERIES.map((series) => (
              <Bar key={series.key} dataKey={series.key} name={series.label} stackId="outcome" fill={series.color} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="sr-only">
        <caption>How tasks ended, day by day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {SERIES.map((series) => (
              <th key={series.key} scope="col">
                {series.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.day}>
              <th scope="row">{row.day}</th>
              {SERIES.map((series) => (
                <td key={series.key}>{row[series.key]}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
