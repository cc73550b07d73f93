export { ProfilePage } from "./routes/profile";
export { TokensPage } from "./routes/tokens";
