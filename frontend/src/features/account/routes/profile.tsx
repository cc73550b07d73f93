import { Alert } from "@/components/ui/alert";

import { useMe } from "../api/account";
import { ProfileForm } from "../components/profile-form";
import { Prompts } from "../components/prompts";

export function ProfilePage() {
  const me = useMe();
  return (
    <section className="grid max-w-4xl gap-8">
      <h1 className="text-xl font-semibold">Profile and prompts</h1>
      {me.isError ? <Alert>{me.error.message}</Alert> : null}
      {me.data ? <ProfileForm me={me.data} /> : null}
      <Prompts />
    </section>
  );
}
