import { spawn } from 'node:child_process';
import { loadOptionalPeer } from '../common/optional-peer';
import { MediaFitError } from '../errors/media-fit.error';

/** An ffmpeg that runs, with what it can encode. */
export interface FfmpegEngine {
  path: string;
  /** "5.1.9-0+deb12u1", from its banner. */
  version: string;
  encoders: ReadonlySet<string>;
  /** Where it was found: `fit.ffmpegPath`, `FFMPEG_PATH`, `PATH` or `@ffmpeg-installer/ffmpeg`. */
  foundBy: string;
}

/** The engine, or why there is none (a sentence naming what to install or fix). */
export type FfmpegDiscovery =
  { engine: FfmpegEngine; problem?: undefined } | { engine?: undefined; problem: string };

export const INSTALL_FFMPEG =
  'install ffmpeg (apt-get install ffmpeg, brew install ffmpeg) or the optional package ' +
  '@ffmpeg-installer/ffmpeg, or set the module option fit.ffmpegPath';

/** The encoders each conversion needs. */
export const FFMPEG_ENCODERS = { voice: ['libmp3lame'], video: ['libx264', 'aac'] } as const;

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Finds ffmpeg in the design's order: the option `fit.ffmpegPath`, then `FFMPEG_PATH`, then `ffmpeg` on
 * PATH, then the optional peer `@ffmpeg-installer/ffmpeg`. A path given explicitly (option or variable)
 * that does not run is a problem to report, never replaced by another ffmpeg: the user chose that one.
 */
export async function findFfmpeg(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FfmpegDiscovery> {
  const chosen: Array<[path: string | undefined, foundBy: string]> = [
    [explicitPath, 'fit.ffmpegPath'],
    [env.FFMPEG_PATH || undefined, 'FFMPEG_PATH'],
  ];
  for (const [path, foundBy] of chosen) {
    if (path === undefined) continue;
    const run = await describeFfmpeg(path, foundBy, env);
    if ('engine' in run) return run;
    return { problem: `${foundBy} "${path}" does not run (${run.failure})${await cure(foundBy, env)}` };
  }
  const onPath = await describeFfmpeg('ffmpeg', 'PATH', env);
  if ('engine' in onPath) return onPath;
  let installed: string | undefined;
  try {
    installed = installerPath();
  } catch (error) {
    return { problem: (error as Error).message };
  }
  if (installed) {
    const run = await describeFfmpeg(installed, '@ffmpeg-installer/ffmpeg', env);
    if ('engine' in run) return run;
    return { problem: `@ffmpeg-installer/ffmpeg's binary "${installed}" does not run (${run.failure})` };
  }
  return { problem: `ffmpeg was not found: ${INSTALL_FFMPEG}` };
}

/**
 * What to do about a chosen ffmpeg that does not run: unset it for the one found without it, or, when
 * there is none, install one (the chosen path often names an ffmpeg that was never installed here).
 */
async function cure(foundBy: string, env: NodeJS.ProcessEnv): Promise<string> {
  const without = await findFfmpeg(undefined, foundBy === 'FFMPEG_PATH' ? { ...env, FFMPEG_PATH: '' } : env);
  if (without.engine) {
    return `; fix it, or unset it to use ${without.engine.path} (from ${without.engine.foundBy})`;
  }
  return (
    ', and no other ffmpeg runs here: install ffmpeg (apt-get install ffmpeg, brew install ffmpeg) or the ' +
    `optional package @ffmpeg-installer/ffmpeg, then point ${foundBy} at it or unset it`
  );
}

/** Memoised discovery: one search per explicit path and environment for the life of the process. */
const discoveries = new Map<string, Promise<FfmpegDiscovery>>();

export function findFfmpegOnce(explicitPath: string | undefined): Promise<FfmpegDiscovery> {
  const key = `${explicitPath ?? ''}\0${process.env.FFMPEG_PATH ?? ''}\0${process.env.PATH ?? ''}`;
  let found = discoveries.get(key);
  if (!found) {
    found = findFfmpeg(explicitPath);
    discoveries.set(key, found);
  }
  return found;
}

/** The engine when it can encode what `needed` lists; otherwise the `engine-missing` error naming the fix. */
export function requireEncoders(
  discovery: FfmpegDiscovery,
  needed: readonly string[],
  what: string,
): FfmpegEngine {
  if (!discovery.engine) {
    throw new MediaFitError('engine-missing', `${what} needs ffmpeg: ${discovery.problem}`);
  }
  const lacking = needed.filter((encoder) => !discovery.engine.encoders.has(encoder));
  if (lacking.length > 0) {
    throw new MediaFitError(
      'engine-missing',
      `${what} needs ffmpeg with the ${lacking.join(' and ')} encoder${lacking.length > 1 ? 's' : ''}; ` +
        `${discovery.engine.path} (${discovery.engine.version}) lacks ${lacking.length > 1 ? 'them' : 'it'}: ` +
        'install a full build (Debian/Ubuntu: apt-get install ffmpeg) or set fit.ffmpegPath to one',
    );
  }
  return discovery.engine;
}

/** The optional peer's binary, loaded only when no other ffmpeg is found; undefined when it is not installed. */
function installerPath(): string | undefined {
  const installer = loadOptionalPeer<{ path?: unknown }>('@ffmpeg-installer/ffmpeg', 'finding ffmpeg');
  return typeof installer?.path === 'string' ? installer.path : undefined;
}

/** Runs `ffmpeg -encoders`: its banner (stderr) names the version, its list (stdout) the encoders. */
function describeFfmpeg(
  path: string,
  foundBy: string,
  env: NodeJS.ProcessEnv,
): Promise<{ engine: FfmpegEngine } | { failure: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(path, ['-nostdin', '-encoders'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ failure: error.code ?? error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const version = /ffmpeg version (\S+)/.exec(stderr + stdout)?.[1];
      if (code !== 0 || !version) {
        resolve({ failure: signal ? `killed by ${signal}` : `exit code ${code}, not an ffmpeg` });
        return;
      }
      const encoders = new Set<string>();
      for (const line of stdout.split('\n')) {
        const match = /^\s[VAS][A-Z.]{5}\s+(\S+)/.exec(line);
        if (match && match[1] !== '=') encoders.add(match[1]);
      }
      resolve({ engine: { path, version, encoders, foundBy } });
    });
  });
}
