export { ApprovalsPage } from "./routes/approvals";
