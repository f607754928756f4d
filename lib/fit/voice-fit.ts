import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaValidationError } from '../errors/media-validation.error';
import { MEDIA_RULES } from '../media-rules/media-limits';
import type { FfmpegEngine } from './ffmpeg-engine';
import { measureDuration, type ProbedMedia } from './ffmpeg-probe';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';

export interface VoiceFitRun {
  engine: FfmpegEngine;
  source: string;
  workDir: string;
  probed: ProbedMedia;
  trim: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (seconds: number, total: number) => void;
}

/** MP3 bitrates LAME writes, highest first; voice never needs more than 128 kbps mono. */
const BITRATES_KBPS = [128, 112, 96, 80, 64, 56, 48, 40, 32, 24, 16, 8];
/** MPEG-1 and MPEG-2 rates: from 16 kHz up, so LAME keeps the bitrate (MPEG-2.5 rates cap it at 64 kbps). */
const SAMPLE_RATES = [16000, 22050, 24000, 32000, 44100, 48000];
/** MP3 frames are 24 to 72 ms; a cut this far below the limit ends below it once framed. */
const TRIM_MARGIN_MS = 250;
/** Room for the Xing header and frame rounding. */
const SIZE_MARGIN = 0.97;

/**
 * Voice as mono MP3: the highest bitrate (at most 128 kbps) whose whole file fits Weixin's 2 MB for the
 * source's duration; over 60 s refused unless `trim`, which cuts it just under 60 s.
 */
export async function fitVoice(run: VoiceFitRun): Promise<{ data: Buffer; durationMs: number }> {
  const { maxBytes, maxDurationMs } = MEDIA_RULES.voice;
  const limitMs = maxDurationMs!;
  if (!run.probed.audio) {
    throw new MediaFitError('unsupported-input', 'this voice source has no audio stream', { type: 'voice' });
  }
  let seconds = run.probed.durationSeconds;
  if (seconds === undefined || !(seconds > 0)) {
    seconds = await measureDuration(run.engine, run.source, 'voice', run.timeoutMs, run.signal);
  }
  if (seconds === undefined || !(seconds > 0)) {
    throw new MediaFitError('unsupported-input', 'this voice source has no audio ffmpeg can decode', {
      type: 'voice',
    });
  }
  const sourceMs = Math.round(seconds * 1000);
  if (sourceMs > limitMs && !run.trim) {
    throw new MediaValidationError(
      'too-long',
      `voice is ${(sourceMs / 1000).toFixed(1)} s; Weixin accepts at most ${limitMs / 1000} s ` +
        '(fit with { trim: true } to cut it to the limit)',
      { type: 'voice', limit: limitMs, actual: sourceMs },
    );
  }
  const outputSeconds = sourceMs > limitMs ? (limitMs - TRIM_MARGIN_MS) / 1000 : seconds;
  const budgetKbps = (maxBytes * 8 * SIZE_MARGIN) / outputSeconds / 1000;
  const bitrate = BITRATES_KBPS.find((kbps) => kbps <= budgetKbps) ?? BITRATES_KBPS.at(-1)!;
  const sourceRate = run.probed.audio.sampleRate ?? 44100;
  const rate = SAMPLE_RATES.find((candidate) => candidate >= sourceRate) ?? 48000;

  const output = join(run.workDir, 'voice.mp3');
  const cut = sourceMs > limitMs ? ['-t', outputSeconds.toFixed(3)] : [];
  const { exitCode, stderr } = await runFfmpeg(run.engine.path, {
    args: [
      ...safeInput(run.source),
      ...cut,
      ...['-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1'],
      ...['-ac', '1', '-ar', String(rate), '-c:a', 'libmp3lame', '-b:a', `${bitrate}k`],
      ...['-f', 'mp3', '-y', `file:${output}`],
    ],
    type: 'voice',
    timeoutMs: run.timeoutMs,
    signal: run.signal,
    onProgress: (done) => run.onProgress?.(Math.min(done, outputSeconds), outputSeconds),
  });
  if (exitCode !== 0) {
    throw new MediaFitError('failed', `ffmpeg could not convert this voice: ${lastMessage(stderr)}`, {
      type: 'voice',
    });
  }
  return { data: await readFile(output), durationMs: Math.round(outputSeconds * 1000) };
}
