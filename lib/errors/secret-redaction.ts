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

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** The app secret, and the callback's Token and EncodingAESKey (module options, accounts, `callback`). */
const SECRET_KEYS = ['appSecret', 'callbackToken', 'encodingAESKey', 'token'] as const;

/** A copy of `value` with every app secret (its own, and those of listed accounts) replaced. */
function withoutSecrets(value: object): Record<string | symbol, unknown> {
  const copy: Record<string | symbol, unknown> = { ...value };
  delete copy.toJSON;
  delete copy[INSPECT];
  for (const key of SECRET_KEYS) {
    if (copy[key] !== undefined) copy[key] = '[redacted]';
  }
  if (Array.isArray(copy.accounts)) {
    copy.accounts = copy.accounts.map((account: unknown) =>
      typeof account === 'object' && account !== null ? withoutSecrets(account) : account,
    );
  }
  return copy;
}

/**
 * Gives an object that holds an app secret (the module's options, an account) renderings that never
 * show it: `util.inspect` (and so `console.log` and the inspection of any service holding it) and
 * `JSON.stringify`. The properties are enumerable on purpose, so a spread copy conceals too.
 */
export function concealSecrets<T extends object>(value: T): T {
  return Object.assign(value, {
    [INSPECT](
      this: object,
      _depth: number,
      options: object,
      inspect: (value: unknown, options: object) => string,
    ): string {
      return inspect(withoutSecrets(this), options);
    },
    toJSON(this: object): Record<string | symbol, unknown> {
      return withoutSecrets(this);
    },
  });
}
