import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { MediaFitError } from '../errors/media-fit.error';
import { lastMessage, runFfmpeg, safeInput, type FfmpegWork } from '../fit/ffmpeg-runner';
import type { FitInput, MediaFitter } from '../fit/media-fitter';
import { MEDIA_RULES } from '../media-rules/media-limits';

/** Where the frame is taken: past a fade-in from black, and within almost every clip (else its first frame). */
const FRAME_AT_SECONDS = [1, 0];
/** Longest side and ffmpeg JPEG quality (2 best, 31 worst), tried in turn until the thumb is within 64 KB. */
const ENCODINGS: Array<[side: number, quality: number]> = [
  [320, 4],
  [160, 12],
];

/**
 * A thumb for a video message: a frame near 1 s as a JPEG within Weixin's 64 KB, made by the fit engine's
 * ffmpeg (its time limit, pixel limit and concurrency). Undefined when this machine has no ffmpeg.
 */
export function videoThumb(
  fitter: MediaFitter,
  video: FitInput,
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  return fitter.withFfmpeg(
    video,
    async (run) => {
      for (const at of FRAME_AT_SECONDS) {
        for (const [side, quality] of ENCODINGS) {
          const jpeg = await frameAt(run, at, side, quality);
          // No frame there: the clip is shorter, so take its first one.
          if (!jpeg) break;
          if (jpeg.length <= MEDIA_RULES.thumb.maxBytes) return jpeg;
        }
      }
      throw new MediaFitError('failed', 'ffmpeg took no frame of this video within 64 KB for its thumb', {
        type: 'thumb',
      });
    },
    signal,
  );
}

/** One frame at `at` seconds, scaled down to fit `side`×`side`; undefined when the video has none there. */
async function frameAt(
  run: FfmpegWork,
  at: number,
  side: number,
  quality: number,
): Promise<Buffer | undefined> {
  const output = join(run.workDir, `thumb-${at}-${side}.jpg`);
  const scale = `scale=w='min(${side},iw)':h='min(${side},ih)':force_original_aspect_ratio=decrease`;
  const { exitCode, stderr } = await runFfmpeg(run.ffmpeg, {
    args: [
      ...['-ss', String(at), ...safeInput(run.source, run.maxInputPixels)],
      ...['-map', '0:v:0', '-frames:v', '1', '-vf', scale, '-q:v', String(quality)],
      ...['-c:v', 'mjpeg', '-f', 'image2', '-y', `file:${output}`],
    ],
    type: 'thumb',
    timeoutMs: run.timeoutMs,
    signal: run.signal,
  });
  if (exitCode !== 0) {
    throw new MediaFitError('failed', `ffmpeg could not take a frame of this video: ${lastMessage(stderr)}`, {
      type: 'thumb',
    });
  }
  const jpeg = await readFile(output).catch(() => undefined);
  return jpeg && jpeg.length > 0 ? jpeg : undefined;
}
