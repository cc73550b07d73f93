export { WebhooksPage } from "./routes/webhooks";
