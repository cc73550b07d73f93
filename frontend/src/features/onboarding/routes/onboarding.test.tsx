import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeAngie, page } from "@/test/fake-angie";

import { Tour } from "../components/tour";
import { startTour } from "../components/tour-state";
import { OnboardingPage } from "./onboarding";

const q = (key: string, ask: string, value: string | string[], kind = "text") => ({
  key,
  ask,
  kind,
  optional: false,
  choices: [],
  limit: 120,
  default: value,
});

function interview(answered: string[]) {
  const topics = [
    { name: "profile", title: "About you", questions: [q("name", "What's your name?", "Sam")] },
    { name: "style", title: "How I talk to you", questions: [q("tone", "How should I talk to you?", "warm and brief")] },
    {
      name: "priorities",
      title: "What matters",
      questions: [q("items", "What matters most to you right now?", ["garden", "thesis"], "list")],
    },
  ].map((t) => ({ ...t, answered: answered.includes(t.name) }));
  return { topics, complete: topics.every((t) => t.answered) };
}

describe("OnboardingPage", () => {
  it("resumes at the first topic not answered, saves each topic, and shows the server's error", async () => {
    const saved: string[] = ["profile"];
    const fake = fakeAngie({
      "GET /api/onboarding": () => interview(saved),
      "POST /api/onboarding": (body) => {
        const answers = (body as { answers: Record<string, Record<string, string>> }).answers;
        if (answers.style?.tone === "") {
          return { status: 422, body: { error: { message: "answers: style.tone needs an answer" } } };
        }
        saved.push(...Object.keys(answers));
        return interview(saved);
      },
    });
    page(<OnboardingPage />);

    const tone = await screen.findByLabelText("How should I talk to you?");
    expect(tone).toHaveValue("warm and brief");
    await userEvent.clear(tone);
    // The browser's own check is not the only one: the server's message is shown.
    tone.removeAttribute("required");
    await userEvent.click(screen.getByRole("button", { name: "Save and continue" }));
    expect(await screen.findByText("answers: style.tone needs an answer")).toBeVisible();

    await userEvent.type(tone, "dry");
    await userEvent.click(screen.getByRole("button", { name: "Save and continue" }));
    const items = await screen.findByLabelText("What matters most to you right now?");
    expect(items).toHaveValue("garden; thesis");
    await userEvent.click(screen.getByRole("button", { name: "Save and finish" }));

    expect(fake.to("POST", "/api/onboarding")).toEqual([
      { answers: { style: { tone: "" } } },
      { answers: { style: { tone: "dry" } } },
      { answers: { priorities: { items: "garden; thesis" } } },
    ]);
  });
});

describe("Tour", () => {
  it("shows once started, walks the steps, and is remembered as done for that person", async () => {
    startTour(7);
    const { unmount } = page(<Tour userId={7} />);
    expect(screen.getByRole("region", { name: "Tour" })).toHaveTextContent("Step 1 of 4");
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByRole("heading", { name: "Approvals" })).toBeVisible();
    await userEvent.click(screen.getByRole("button", { name: "Skip the tour" }));
    expect(screen.queryByRole("region", { name: "Tour" })).toBeNull();
    unmount();

    page(<Tour userId={7} />);
    expect(screen.queryByRole("region", { name: "Tour" })).toBeNull();
    page(<Tour userId={8} />);
    expect(screen.queryByRole("region", { name: "Tour" })).toBeNull();
  });

  it("opens when started while already on the page", () => {
    page(<Tour userId={9} />);
    expect(screen.queryByRole("region", { name: "Tour" })).toBeNull();
    act(() => startTour(9));
    expect(screen.getByRole("region", { name: "Tour" })).toHaveTextContent("Step 1 of 4");
  });
});
