import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaValidationError } from '../errors/media-validation.error';
import { inspectMediaContent } from '../media-rules/inspect-media';
import { bufferContent } from '../media-rules/media-content';
import { MEDIA_RULES } from '../media-rules/media-limits';
import type { FfmpegEngine } from './ffmpeg-engine';
import type { ProbedMedia } from './probed-media';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';

export interface VoiceFitRun {
  engine: FfmpegEngine;
  source: string;
  workDir: string;
  trim: boolean;
  timeoutMs: number;
  /** Bounds the frames ffmpeg decodes while describing the input (a video or cover art beside the audio). */
  maxInputPixels: number;
  signal?: AbortSignal;
  onProgress?: (seconds: number, total: number) => void;
}

export interface FittedVoice {
  data: Buffer;
  durationMs: number;
  /** What ffmpeg read of the source (container, duration) while it converted. */
  source?: ProbedMedia;
}

/**
 * 128 kbps mono: the highest bitrate voice needs, and within 2 MB for anything up to the 60 s limit
 * (60 s × 128 kbps = 0.94 MB), so the duration never has to be known before converting.
 */
const BITRATE_KBPS = 128;
const SAMPLE_RATE = 44100;
/** MP3 frames are 24 to 72 ms; a cut this far below the limit ends below it once framed. */
const TRIM_MARGIN_MS = 250;
/** Without trim, conversion stops a little past the limit: what is over is refused, not converted whole. */
const OVER_LIMIT_MARGIN_MS = 1000;

/**
 * Voice as mono MP3 in one ffmpeg run (no separate probe: the run's own description of its input gives
 * the duration). Over 60 s it is refused as soon as the input says so, unless `trim` cuts it just under.
 */
export async function fitVoice(run: VoiceFitRun): Promise<FittedVoice> {
  const limitMs = MEDIA_RULES.voice.maxDurationMs!;
  const capSeconds = (run.trim ? limitMs - TRIM_MARGIN_MS : limitMs + OVER_LIMIT_MARGIN_MS) / 1000;
  const output = join(run.workDir, 'voice.mp3');
  let source: ProbedMedia | undefined;
  let tooLong: MediaValidationError | undefined;
  const controller = new AbortController();
  const signal = run.signal ? AbortSignal.any([run.signal, controller.signal]) : controller.signal;
  const result = await runFfmpeg(run.engine.path, {
    args: [
      ...safeInput(run.source, run.maxInputPixels),
      ...['-t', capSeconds.toFixed(3), '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1'],
      ...['-ac', '1', '-ar', String(SAMPLE_RATE), '-c:a', 'libmp3lame', '-b:a', `${BITRATE_KBPS}k`],
      ...['-f', 'mp3', '-y', `file:${output}`],
    ],
    type: 'voice',
    timeoutMs: run.timeoutMs,
    signal,
    onInput: (probed) => {
      source = probed;
      const sourceMs =
        probed.durationSeconds === undefined ? undefined : Math.round(probed.durationSeconds * 1000);
      if (sourceMs !== undefined && sourceMs > limitMs && !run.trim) {
        tooLong = tooLongError(sourceMs, limitMs);
        controller.abort(tooLong);
      }
    },
    onProgress: (done) => {
      const total = Math.min(capSeconds, source?.durationSeconds ?? capSeconds);
      run.onProgress?.(Math.min(done, total), total);
    },
  }).catch((error: unknown) => {
    throw tooLong ?? error;
  });
  if (result.exitCode !== 0) {
    if (/matches no streams/.test(result.stderr)) {
      throw new MediaFitError('unsupported-input', 'this voice source has no audio stream', {
        type: 'voice',
      });
    }
    throw new MediaFitError('failed', `ffmpeg could not convert this voice: ${lastMessage(result.stderr)}`, {
      type: 'voice',
    });
  }
  const data = await readFile(output);
  const { durationMs } = await inspectMediaContent('voice', bufferContent(data)).catch(() => ({
    durationMs: 0,
  }));
  // A source whose container did not say its length: the capped conversion measured it.
  if (!run.trim && durationMs !== undefined && durationMs > limitMs) throw tooLongError(durationMs, limitMs);
  if (!durationMs) {
    throw new MediaFitError('unsupported-input', 'this voice source has no audio ffmpeg can decode', {
      type: 'voice',
    });
  }
  return { data, durationMs, source };
}

function tooLongError(actualMs: number, limitMs: number): MediaValidationError {
  return new MediaValidationError(
    'too-long',
    `voice is ${(actualMs / 1000).toFixed(1)} s; Weixin accepts at most ${limitMs / 1000} s ` +
      '(fit with { trim: true } to cut it to the limit)',
    { type: 'voice', limit: limitMs, actual: actualMs },
  );
}
