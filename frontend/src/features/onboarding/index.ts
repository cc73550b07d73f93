export { Tour } from "./components/tour";
export { OnboardingPage } from "./routes/onboarding";
