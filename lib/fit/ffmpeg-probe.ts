import { MediaFitError } from '../errors/media-fit.error';
import type { MediaType } from '../interfaces/media.interface';
import type { FfmpegEngine } from './ffmpeg-engine';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';

/** What ffmpeg reads from a source's headers. */
export interface ProbedMedia {
  /** The demuxer's first name: 'wav', 'mov', 'matroska', 'ogg', ... */
  container: string;
  /** Seconds, when the container says. */
  durationSeconds?: number;
  audio?: { codec: string; sampleRate?: number; channels?: string };
  video?: { codec: string; width: number; height: number; rotation: number };
}

const PROBE_TIMEOUT_MS = 30_000;

/**
 * Reads a source's container, duration and first audio and video streams from ffmpeg's description of
 * its input (`ffmpeg -i` with no output: headers only, nothing decoded).
 */
export async function probeMedia(
  engine: FfmpegEngine,
  path: string,
  type: MediaType,
  signal?: AbortSignal,
): Promise<ProbedMedia> {
  const { stderr } = await runFfmpeg(engine.path, {
    args: [...safeInput(path)],
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

export function parseProbe(stderr: string): ProbedMedia | undefined {
  const input = /^Input #0, ([^,\s]+)/m.exec(stderr);
  if (!input) return undefined;
  const probed: ProbedMedia = { container: input[1] };
  const duration = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (duration) {
    probed.durationSeconds = Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  }
  const audio = /Stream #0:\d+.*?: Audio: (\w+)[^\n]*/.exec(stderr);
  if (audio) {
    const rate = /, (\d+) Hz/.exec(audio[0]);
    const channels = /Hz, ([^,]+)/.exec(audio[0]);
    probed.audio = {
      codec: audio[1],
      sampleRate: rate ? Number(rate[1]) : undefined,
      channels: channels?.[1].trim(),
    };
  }
  const video = /Stream #0:\d+.*?: Video: (\w+)[^\n]*/.exec(stderr);
  if (video) {
    const size = /, (\d{1,6})x(\d{1,6})/.exec(video[0]);
    // A display matrix turns portrait phone video; ffmpeg applies it when it converts.
    const rotation = /rotation of (-?[\d.]+) degrees/.exec(stderr.slice(video.index));
    if (size) {
      probed.video = {
        codec: video[1],
        width: Number(size[1]),
        height: Number(size[2]),
        rotation: rotation ? Math.round(Number(rotation[1])) : 0,
      };
    }
  }
  return probed;
}

/** Width and height as shown, after the rotation ffmpeg applies. */
export function displayedSize(video: NonNullable<ProbedMedia['video']>): { width: number; height: number } {
  const quarterTurn = Math.abs(video.rotation) % 180 === 90;
  return quarterTurn
    ? { width: video.height, height: video.width }
    : { width: video.width, height: video.height };
}

/** Decodes the source to nowhere to learn its playing time, for containers that do not say. */
export async function measureDuration(
  engine: FfmpegEngine,
  path: string,
  type: MediaType,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  let seconds: number | undefined;
  const stream = type === 'voice' ? ['-map', '0:a:0'] : ['-map', '0:v:0'];
  await runFfmpeg(engine.path, {
    args: [...safeInput(path), ...stream, '-f', 'null', '-'],
    type,
    timeoutMs,
    signal,
    onProgress: (done) => (seconds = done),
  });
  return seconds;
}
