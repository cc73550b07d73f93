export { WorkflowEditPage, WorkflowListPage } from "./routes/workflows";
