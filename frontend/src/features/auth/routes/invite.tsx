import { useParams } from "react-router";

import { registerInvited } from "../api/register";
import { AuthCard } from "../components/auth-card";
import { NewAccountForm } from "../components/new-account-form";

export function InvitePage() {
  const { token = "" } = useParams();
  return (
    <AuthCard
      title="You are invited"
      description="Create your account on this household's Angie. The invitation works once and for seven days."
    >
      <NewAccountForm create={(account) => registerInvited({ ...account, inviteCode: token })} />
    </AuthCard>
  );
}
