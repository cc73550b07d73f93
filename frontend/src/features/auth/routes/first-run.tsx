import { useState } from "react";

import { Input } from "@/components/ui/input";

import { register } from "../api/register";
import { AuthCard, Field } from "../components/auth-card";
import { NewAccountForm } from "../components/new-account-form";

export function FirstRunPage() {
  const [setupCode, setSetupCode] = useState("");
  return (
    <AuthCard
      title="Welcome"
      description="Create the first account of this Angie: it is the household's admin."
    >
      <NewAccountForm create={(account) => register({ ...account, setupCode })}>
        <Field
          id="setup-code"
          label="Setup code"
          hint="Angie printed it when she first started; it is also in the setup-code file of her data folder."
        >
          <Input
            id="setup-code"
            required
            autoComplete="one-time-code"
            aria-describedby="setup-code-hint"
            value={setupCode}
            onChange={(event) => setSetupCode(event.target.value)}
          />
        </Field>
      </NewAccountForm>
    </AuthCard>
  );
}
