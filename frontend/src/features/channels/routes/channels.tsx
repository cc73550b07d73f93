import { Alert } from "@/components/ui/alert";

import { useChannels } from "../api/channels";
import { ChannelCard } from "../components/channel-card";
import { Identities } from "../components/identities";

export function ChannelsPage() {
  const channels = useChannels();
  return (
    <section className="grid max-w-3xl gap-6">
      <h1 className="text-xl font-semibold">Channels</h1>
      {channels.isError ? <Alert>{channels.error.message}</Alert> : null}
      {channels.isPending ? <p role="status">Loading…</p> : null}
      <div className="grid gap-4">
        {channels.data?.items.map((channel) => (
          <ChannelCard key={channel.channel} channel={channel} />
        ))}
      </div>
      <Identities />
    </section>
  );
}
