export { Sidekick } from "./components/sidekick";
export { ChatPage } from "./routes/chat";
