import { type FormEvent, useId, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

import { type Channel, changes, useCheckChannel, useSaveChannel } from "../api/channels";

const CONNECTION = {
  connected: { word: "connected", variant: "success" },
  connecting: { word: "connecting", variant: "secondary" },
  failed: { word: "failed", variant: "destructive" },
  not_running: { word: "not running here", variant: "outline" },
  off: { word: "off", variant: "outline" },
} as const;

export function ChannelCard({ channel }: { channel: Channel }) {
  const id = useId();
  const save = useSaveChannel(channel.channel);
  const check = useCheckChannel(channel.channel);
  const [enabled, setEnabled] = useState(channel.enabled || !channel.updated_at);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      channel.fields
        .filter((f) => !f.secret)
        .map((f) => [f.name, String(channel.config[f.name] ?? (channel.updated_at ? "" : (f.suggested ?? "")))]),
    ),
  );
  const connection = CONNECTION[channel.connection as keyof typeof CONNECTION] ?? CONNECTION.off;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(changes(channel, values, enabled), {
      onSuccess: () => setValues((old) => Object.fromEntries(Object.entries(old).filter(([name]) =>
        !channel.fields.find((f) => f.name === name)?.secret))),
    });
  };
  return (
    <Card>
      <CardHeader>
        <div className="flex flex-wrap items-center justify-between gap-2">
          <CardTitle>{channel.title}</CardTitle>
          <Badge variant={connection.variant}>{connection.word}</Badge>
        </div>
        {channel.connection_detail ? <CardDescription>{channel.connection_detail}</CardDescription> : null}
        {channel.missing.length > 0 ? (
          <CardDescription>Still needed: {channel.missing.join(", ")}.</CardDescription>
        ) : null}
      </CardHeader>
      <CardContent className="grid gap-4">
        {channel.webhook_path ? (
          <p className="text-sm">
            Give the platform this address, after Angie's public one:{" "}
            <code className="break-all rounded bg-muted px-1">{channel.webhook_path}</code>
          </p>
        ) : null}
        <form className="grid gap-3" onSubmit={submit} aria-label={`${channel.title} settings`}>
          {channel.fields.map((field) => (
            <div key={field.name} className="grid gap-1">
              <Label htmlFor={`${id}-${field.name}`}>
                {field.label}
                {field.required ? " (needed)" : ""}
              </Label>
              <Input
                id={`${id}-${field.name}`}
                type={field.secret ? "password" : "text"}
                autoComplete={field.secret ? "new-password" : "off"}
                value={values[field.name] ?? ""}
                placeholder={
                  field.secret && channel.secrets_set.includes(field.name)
                    ? "saved; type to replace"
                    : (field.hint ?? "")
                }
                onChange={(event) => setValues((old) => ({ ...old, [field.name]: event.target.value }))}
              />
            </div>
          ))}
          <div className="flex items-center gap-2">
            <input
              id={`${id}-enabled`}
              type="checkbox"
              className="size-4"
              checked={enabled}
              onChange={(event) => setEnabled(event.target.checked)}
            />
            <Label htmlFor={`${id}-enabled`}>Angie uses {channel.title}</Label>
          </div>
          {save.isError ? <Alert>{save.error.message}</Alert> : null}
          <div className="flex flex-wrap gap-2">
            <Button type="submit" disabled={save.isPending}>
              Save {channel.title}
            </Button>
            <Button
              type="button"
              variant="outline"
              disabled={check.isPending}
              onClick={() => check.mutate()}
            >
              Check {channel.title}
            </Button>
          </div>
          {save.isSuccess ? <p role="status" className="text-sm text-muted-foreground">Saved.</p> : null}
          {check.data ? (
            <p role="status" className={check.data.ok ? "text-sm text-success" : "text-sm text-destructive"}>
              {check.data.ok ? "Works: " : "Does not work: "}
              {check.data.detail}
            </p>
          ) : null}
          {check.isError ? <Alert>{check.error.message}</Alert> : null}
        </form>
      </CardContent>
    </Card>
  );
}
