export { TeamsPage } from "./routes/teams";
