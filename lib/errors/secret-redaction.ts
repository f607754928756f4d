/** Query and JSON fields whose values are secrets. */
const SECRET_FIELDS = /((?:access_token|secret|appsecret)["']?\s*[=:]\s*["']?)[^&"'\s,}]+/gi;

/**
 * Removes access tokens and app secrets from text that may reach a message, log or stack:
 * `access_token=…`, `secret=…` and the JSON forms, plus any literal value in `secrets`.
 */
export function redactSecrets(text: string, secrets: Iterable<string | undefined> = []): string {
  let redacted = text.replace(SECRET_FIELDS, '$1[redacted]');
  for (const secret of secrets) {
    if (secret && secret.length >= 4) {
      redacted = redacted.split(secret).join('[redacted]');
    }
  }
  return redacted;
}
