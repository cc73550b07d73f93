import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { allowed, toggled } from "../api/agents";
import { AgentEditPage, AgentListPage } from "./agents";

const hue = {
  id: 1,
  name: "hue",
  description: "Lights",
  prompt: "You switch lights.",
  tool_filter: [],
  model: null,
  limits: null,
  enabled: true,
  builtin: true,
  shared: true,
  servers: ["hue"],
  available: true,
  unavailable_reason: "",
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};
const tool = (name: string, read_only: boolean, destructive: boolean) => ({
  name,
  prefixed_name: `hue_${name}`,
  title: null,
  description: `The ${name} tool`,
  read_only,
  destructive,
  annotations: { readOnlyHint: read_only, destructiveHint: destructive },
  input_schema: {},
  decision: read_only ? "allow" : "ask",
  untrusted_decision: "ask",
});

function angie() {
  return fakeAngie({
    "GET /api/agents": () => list([hue]),
    "GET /api/agents/{agent_id}": () => hue,
    "GET /api/mcp/servers": () => list([{ name: "hue", enabled: true }, { name: "github", enabled: true }]),
    "GET /api/mcp/servers/{name}/tools": (_, { name }) =>
      name === "hue"
        ? [tool("get_light", true, false), tool("set_light", false, false), tool("pair", false, true)]
        : { status: 503, body: { error: { message: "the github server is down" } } },
    "POST /api/agents": (body) => ({ status: 201, body: { ...hue, ...(body as object), id: 9, builtin: false } }),
  });
}

function editor(path: string) {
  return page(
    <Routes>
      <Route path="/agents" element={<AgentListPage />} />
      <Route path="/agents/:agentId" element={<AgentEditPage />} />
    </Routes>,
    path,
  );
}

describe("tool filters", () => {
  it("follow Angie's globs and keep the person's own patterns", () => {
    expect(allowed("hue_pair", ["hue_*", "!hue_pair"])).toBe(false);
    expect(allowed("hue_get_light", ["hue_*", "!hue_pair"])).toBe(true);
    expect(toggled([], "hue_pair", false)).toEqual(["!hue_pair"]);
    expect(toggled(["!hue_pair"], "hue_pair", true)).toEqual([]);
    expect(toggled(["hue_get_*"], "hue_set_light", true)).toEqual(["hue_get_*", "hue_set_light"]);
  });
});

describe("Agents", () => {
  it("lists the agents and opens one", async () => {
    angie();
    editor("/agents");
    await userEvent.click(await screen.findByRole("link", { name: /hue/ }));
    expect(await screen.findByLabelText("Prompt")).toHaveValue("You switch lights.");
    expect(screen.getByLabelText("Name")).toBeDisabled();
  });

  it("creates an agent with a prompt, a model and tools picked from the live list", async () => {
    const fake = angie();
    editor("/agents/new");
    await userEvent.type(await screen.findByLabelText("Name"), "lights");
    await userEvent.type(screen.getByLabelText("Prompt"), "Only look, never pair.");
    await userEvent.type(screen.getByLabelText("Model (blank: Angie's own)"), "openai:small");
    await userEvent.click(await screen.findByRole("checkbox", { name: "hue" }));
    const pair = await screen.findByRole("checkbox", { name: "pair hue_pair" });
    expect(screen.getAllByText("destructive")).toHaveLength(1);
    expect(screen.getAllByText("reads only")).toHaveLength(1);
    await userEvent.click(pair);
    await userEvent.click(screen.getByRole("checkbox", { name: "github" }));
    expect(await screen.findByText("the github server is down")).toBeVisible();
    await userEvent.click(screen.getByRole("checkbox", { name: "github" }));
    await userEvent.click(screen.getByRole("button", { name: "Create agent" }));
    expect(await screen.findByText("Saved.")).toBeVisible();
    expect(fake.to("POST", "/api/agents")).toEqual([
      {
        name: "lights",
        description: "",
        prompt: "Only look, never pair.",
        tool_filter: ["!hue_pair"],
        model: "openai:small",
        enabled: true,
        servers: ["hue"],
      },
    ]);
  });
});
