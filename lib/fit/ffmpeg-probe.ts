import { MediaFitError } from '../errors/media-fit.error';
import type { MediaType } from '../interfaces/media.interface';
import type { FfmpegEngine } from './ffmpeg-engine';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';
import { parseProbe, type ProbedMedia } from './probed-media';

export { displayedSize, type ProbedMedia } from './probed-media';

const PROBE_TIMEOUT_MS = 30_000;

/**
 * Reads a source's container, duration and first audio and video streams from ffmpeg's description of
 * its input (`ffmpeg -i` with no output: headers, and at most a first frame within `maxPixels`).
 */
export async function probeMedia(
  engine: FfmpegEngine,
  path: string,
  type: MediaType,
  maxPixels: number,
  signal?: AbortSignal,
): Promise<ProbedMedia> {
  const { stderr } = await runFfmpeg(engine.path, {
    args: safeInput(path, maxPixels),
    type,
    timeoutMs: PROBE_TIMEOUT_MS,
    signal,
  });
  const probed = parseProbe(stderr);
  if (!probed) {
    throw new MediaFitError(
      'unsupported-input',
      `ffmpeg cannot read this ${type} source: ${lastMessage(stderr)}`,
      {
        type,
      },
    );
  }
  return probed;
}

/** Decodes the source to nowhere to learn its playing time, for containers that do not say. */
export async function measureDuration(
  engine: FfmpegEngine,
  path: string,
  type: MediaType,
  limits: { timeoutMs: number; maxPixels: number },
  signal?: AbortSignal,
): Promise<number | undefined> {
  let seconds: number | undefined;
  const stream = type === 'voice' ? ['-map', '0:a:0'] : ['-map', '0:v:0'];
  await runFfmpeg(engine.path, {
    args: [...safeInput(path, limits.maxPixels), ...stream, '-f', 'null', '-'],
    type,
    timeoutMs: limits.timeoutMs,
    signal,
    onProgress: (done) => (seconds = done),
  });
  return seconds;
}
