export { McpServersPage } from "./routes/mcp-servers";
