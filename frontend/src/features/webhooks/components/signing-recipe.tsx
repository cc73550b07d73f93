import { signingCurl } from "./signing";

export function SigningRecipe({ url }: { url: string }) {
  return (
    <details className="text-sm">
      <summary className="cursor-pointer text-muted-foreground">How to sign a delivery</summary>
      <div className="grid gap-2 pt-2">
        <p>
          POST to <code className="break-all">{url}</code> with two headers: <code>X-Angie-Timestamp</code> (unix seconds,
          within five minutes of now) and <code>X-Angie-Signature: sha256=&lt;hex&gt;</code>, the HMAC-SHA256 of{" "}
          <code>"&lt;timestamp&gt;." + the raw body</code> keyed with the secret. An optional{" "}
          <code>X-Angie-Delivery</code> id makes a retry count once.
        </p>
        <pre className="overflow-x-auto rounded bg-muted p-2 text-xs" data-testid="signing-curl">
          {signingCurl(url)}
        </pre>
      </div>
    </details>
  );
}
