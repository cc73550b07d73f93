export { AgentEditPage, AgentListPage } from "./routes/agents";
