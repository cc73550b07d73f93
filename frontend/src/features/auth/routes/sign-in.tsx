import { useEffect } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { session } from "@/api/session";
import { useSession } from "@/hooks/use-session";

import { AuthCard } from "../components/auth-card";
import { SignInForm } from "../components/sign-in-form";

export function SignInPage() {
  const navigate = useNavigate();
  const location = useLocation();
  const state = useSession();
  const from = (location.state as { from?: string; reason?: string } | null) ?? {};
  useEffect(() => {
    if (state.status === "signed-in") navigate(from.from ?? "/", { replace: true });
  }, [state.status, from.from, navigate]);
  return (
    <AuthCard
      title="Sign in"
      description={from.reason ?? "With the email and password of your Angie account."}
    >
      <SignInForm onSignIn={(email, password) => session.signIn(email, password)} />
      <p className="mt-4 text-sm text-muted-foreground">
        First time here?{" "}
        <Link to="/setup" className="underline underline-offset-4">
          Create the first account
        </Link>{" "}
        with the setup code Angie printed.
      </p>
    </AuthCard>
  );
}
