/** How a sender signs a delivery, as the orchestrator checks it (routes/webhook_deliveries.py). */
export function signingCurl(url: string): string {
  return [
    "SECRET='<the webhook secret>'",
    `BODY='{"hello": "angie"}'`,
    "TS=$(date +%s)",
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `curl -X POST '${url}' \\`,
    "  -H 'Content-Type: application/json' \\",
    '  -H "X-Angie-Timestamp: $TS" \\',
    '  -H "X-Angie-Signature: sha256=$SIG" \\',
    '  -H "X-Angie-Delivery: $(uuidgen)" \\',
    '  --data "$BODY"',
  ].join("\n");
}
