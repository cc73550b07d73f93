export { ChatPage } from "./routes/chat";
