/**
 * Optional peers (sharp, @nestjs/config, class-validator, @nestjs/terminus, @opentelemetry/api, ...) are
 * loaded where they are first used, never when the package is imported, and each at most once: the answer,
 * module or failure, is kept for the life of the process (the one state this package keeps at module level).
 */
const loaded = new Map<string, { module: unknown } | { error: Error }>();

/**
 * The optional peer `name`, or undefined when the app has not installed it. A peer that is installed but
 * does not load (a dependency of its own missing, a native binary built for another platform) throws an
 * error that says so and names `whatFor`: that is a broken install to fix, not a feature the app left out.
 */
export function loadOptionalPeer<T>(name: string, whatFor: string): T | undefined {
  let outcome = loaded.get(name);
  if (!outcome) {
    try {
      outcome = { module: require(name) as unknown };
    } catch (error) {
      outcome = { error: error as Error };
    }
    loaded.set(name, outcome);
  }
  if ('module' in outcome) return outcome.module as T;
  if (isNotInstalled(outcome.error, name)) return undefined;
  throw new Error(
    `${name} is installed but does not load (${firstLine(outcome.error)}); ${whatFor} needs it: ` +
      `reinstall it for this platform (npm install ${name})`,
    { cause: outcome.error },
  );
}

/** The optional peer `name`; when it is not installed, an error saying that `whatFor` needs it and how to install it. */
export function requireOptionalPeer<T>(name: string, whatFor: string, install = `npm install ${name}`): T {
  const peer = loadOptionalPeer<T>(name, whatFor);
  if (peer === undefined) throw new Error(`${whatFor} needs ${name}: ${install}`);
  return peer;
}

/** MODULE_NOT_FOUND for the peer itself; the same code for a module the peer requires means a broken install. */
function isNotInstalled(error: Error, name: string): boolean {
  return (
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.startsWith(`Cannot find module '${name}'`)
  );
}

function firstLine(error: Error): string {
  return String(error.message).split('\n')[0];
}
