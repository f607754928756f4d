import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaFitError } from '../errors/media-fit.error';
import { MEDIA_RULES } from '../media-rules/media-limits';
import type { FfmpegEngine } from './ffmpeg-engine';
import { displayedSize, measureDuration, type ProbedMedia } from './ffmpeg-probe';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';
import { assertFramePixels } from './pixel-limit';

export interface VideoFitRun {
  engine: FfmpegEngine;
  source: string;
  workDir: string;
  probed: ProbedMedia;
  timeoutMs: number;
  maxInputPixels: number;
  signal?: AbortSignal;
  onProgress?: (seconds: number, total: number) => void;
}

/** The share of Weixin's 10 MB the streams may take; the rest is for the MP4 boxes and rate-control slack. */
const SIZE_MARGIN = 0.94;
/** Above this, a higher cap buys nothing visible at CRF 23 and 1280 wide. */
const MAX_VIDEO_KBPS = 8000;
/** Constant quality, capped by the bitrate the duration allows (x264's default CRF). */
const CRF = 23;
/** Narrower frames where the bitrate is too low for more pixels to look better. */
const WIDTH_BY_KBPS: ReadonlyArray<readonly [minKbps: number, width: number]> = [
  [1200, 1280],
  [600, 854],
  [300, 640],
  [0, 480],
];
/** A second try at this share of the bitrate, in the rare case the first overshoots. */
const RETRY_SHARE = 0.75;

/**
 * Video as MP4 (H.264 + AAC, `faststart`) within Weixin's 10 MB: a bitrate cap chosen from the duration
 * over constant quality (capped CRF: one pass, and short clips stay small), scaled to at most 1280 wide
 * and narrower only when the bitrate is too low for the width.
 */
export async function fitVideo(
  run: VideoFitRun,
): Promise<{ data: Buffer; durationMs: number; source: ProbedMedia }> {
  const { video, audio } = run.probed;
  if (!video) {
    throw new MediaFitError('unsupported-input', 'this video source has no video stream', { type: 'video' });
  }
  // From the stream's header, before any run decodes it (a 400 KB MKV can hold a 12000×12000 frame).
  assertFramePixels('video', video, run.maxInputPixels);
  const limits = { timeoutMs: run.timeoutMs, maxPixels: run.maxInputPixels };
  let seconds = run.probed.durationSeconds;
  if (seconds === undefined || !(seconds > 0)) {
    seconds = await measureDuration(run.engine, run.source, 'video', limits, run.signal);
  }
  if (seconds === undefined || !(seconds > 0)) {
    throw new MediaFitError('unsupported-input', 'this video source has no frames ffmpeg can decode', {
      type: 'video',
    });
  }
  const { maxBytes } = MEDIA_RULES.video;
  let share = 1;
  for (let attempt = 0; attempt < 2; attempt++, share *= RETRY_SHARE) {
    const output = join(run.workDir, `video-${attempt}.mp4`);
    const plan = planBitrates(maxBytes * 8 * SIZE_MARGIN * share, seconds, audio !== undefined);
    const width = Math.min(displayedSize(video).width, widthFor(plan.videoKbps));
    const { exitCode, stderr } = await runFfmpeg(run.engine.path, {
      args: [
        ...safeInput(run.source, run.maxInputPixels),
        ...['-map', '0:v:0', ...(audio ? ['-map', '0:a:0'] : []), '-sn', '-dn', '-map_metadata', '-1'],
        // Even dimensions (4:2:0 needs them), the height following the width's scale.
        ...['-vf', `scale=w='trunc(min(${width},iw)/2)*2':h=-2`, '-pix_fmt', 'yuv420p'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-crf', String(CRF)],
        ...['-maxrate', `${plan.videoKbps}k`, '-bufsize', `${plan.videoKbps}k`],
        ...(audio ? ['-c:a', 'aac', '-b:a', `${plan.audioKbps}k`, '-ac', '2'] : []),
        ...['-movflags', '+faststart', '-f', 'mp4', '-y', `file:${output}`],
      ],
      type: 'video',
      timeoutMs: run.timeoutMs,
      signal: run.signal,
      onProgress: (done) => run.onProgress?.(Math.min(done, seconds), seconds),
    });
    if (exitCode !== 0) {
      throw new MediaFitError('failed', `ffmpeg could not convert this video: ${lastMessage(stderr)}`, {
        type: 'video',
      });
    }
    if ((await stat(output)).size <= maxBytes) {
      return { data: await readFile(output), durationMs: Math.round(seconds * 1000), source: run.probed };
    }
  }
  // The caller's rules check names the size; the last output is still over it.
  return {
    data: await readFile(join(run.workDir, 'video-1.mp4')),
    durationMs: Math.round(seconds * 1000),
    source: run.probed,
  };
}

/**
 * Audio first (128 kbps, less when the whole budget is small), the rest to video, with the rate-control
 * buffer (one second of video) counted against the budget, so the file stays under it however the
 * encoder spends the buffer.
 */
export function planBitrates(
  budgetBits: number,
  seconds: number,
  hasAudio: boolean,
): { videoKbps: number; audioKbps: number } {
  const totalKbps = budgetBits / seconds / 1000;
  const audioKbps = !hasAudio ? 0 : totalKbps >= 1000 ? 128 : totalKbps >= 400 ? 96 : 64;
  const videoKbps = (budgetBits / 1000 - audioKbps * seconds) / (seconds + 1);
  return { videoKbps: Math.max(50, Math.min(MAX_VIDEO_KBPS, Math.floor(videoKbps))), audioKbps };
}

function widthFor(videoKbps: number): number {
  return WIDTH_BY_KBPS.find(([minKbps]) => videoKbps >= minKbps)![1];
}
