export { EventsPage } from "./routes/events";
