export { HouseholdPage } from "./routes/household";
