export { FirstRunPage } from "./routes/first-run";
export { SignInPage } from "./routes/sign-in";
export { InvitePage } from "./routes/invite";
