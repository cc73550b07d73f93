import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { OutcomeChart } from "./outcome-chart";

describe("OutcomeChart", () => {
  it("gives screen readers the numbers it draws, a row a day", () => {
    render(
      <OutcomeChart
        days={[
          { day: "2026-12-03", succeeded: 4, failed: 1, cancelled: 0 },
          { day: "2026-12-04", succeeded: 7, failed: 0, cancelled: 2 },
        ]}
      />,
    );
    const table = screen.getByRole("table", { name: "How tasks ended, day by day" });
    const row = within(table).getByRole("row", { name: /2026-12-04/ });
    expect(within(row).getAllByRole("cell").map((cell) => cell.textContent)).toEqual(["7", "0", "2"]);
    expect(within(table).getAllByRole("row")).toHaveLength(3);
  });
});
