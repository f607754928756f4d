import { spawn } from 'node:child_process';
import { MediaFitError } from '../errors/media-fit.error';
import type { MediaType } from '../interfaces/media.interface';
import { parseProbe, type ProbedMedia } from './probed-media';

/**
 * The demuxers ffmpeg may use on a source. Playlists and manifests (hls, dash, concat, sdp, ...) are not
 * among them: they name other files or URLs, and a crafted upload must never make ffmpeg read either.
 */
export const ALLOWED_DEMUXERS = [
  'wav',
  'w64',
  'aiff',
  'caf',
  'mov',
  'matroska',
  'ogg',
  'flac',
  'mp3',
  'aac',
  'amr',
  'amrnb',
  'amrwb',
  'avi',
  'asf',
  'flv',
  'mpegts',
  'mpeg',
  'bmp_pipe',
  'png_pipe',
  'tiff_pipe',
  'webp_pipe',
  'jpeg_pipe',
  'gif',
].join(',');

/**
 * Input options that keep ffmpeg on the local file it is given, and its decoders within `fit.maxInputPixels`:
 * `-max_pixels` refuses a larger frame before allocating it, even while ffmpeg only describes its input (that
 * decodes an H.264 stream's first frame) and for a frame that grows in the middle of a stream.
 */
export function safeInput(path: string, maxPixels: number): string[] {
  return [
    ...['-max_pixels', String(maxPixels), '-protocol_whitelist', 'file,pipe'],
    ...['-format_whitelist', ALLOWED_DEMUXERS, '-i', `file:${path}`],
  ];
}

export interface FfmpegRun {
  args: string[];
  type: MediaType;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Seconds of media done so far, from `-progress`. */
  onProgress?: (seconds: number) => void;
  /** What ffmpeg read of its input, once it has described it (before converting). */
  onInput?: (probed: ProbedMedia) => void;
}

/** What a run of ffmpeg outside the conversions gets from `MediaFitter.withFfmpeg`: the engine and the fit limits. */
export interface FfmpegWork {
  ffmpeg: string;
  /** The input as a file. */
  source: string;
  /** A temp directory removed after the work. */
  workDir: string;
  timeoutMs: number;
  maxInputPixels: number;
  signal?: AbortSignal;
}

export interface FfmpegResult {
  /** ffmpeg's messages (the last few KB). */
  stderr: string;
  exitCode: number | null;
}

const STDERR_KEEP = 16 * 1024;

/**
 * Runs ffmpeg as a child process: no stdin (`-nostdin`), progress on stdout, killed when the time limit
 * passes or the signal aborts. Settles only after the process has exited, so nothing outlives a fit.
 * Rejects with `MediaFitError` ('timeout'), the abort reason, or answers the exit code and messages.
 */
export function runFfmpeg(path: string, run: FfmpegRun): Promise<FfmpegResult> {
  run.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['-nostdin', '-hide_banner', '-nostats', '-progress', 'pipe:1', ...run.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let pending = '';
    let stopped: Error | undefined;
    const stop = (reason: Error) => {
      stopped ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () =>
        stop(
          new MediaFitError(
            'timeout',
            `converting the ${run.type} took longer than ${run.timeoutMs} ms (fit.timeoutMs) and was stopped`,
            { type: run.type, limit: run.timeoutMs },
          ),
        ),
      run.timeoutMs,
    );
    const onAbort = () => stop(abortReason(run.signal!));
    run.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        // `out_time_us` (ffmpeg ≥ 4.4) and `out_time_ms` (older, also in microseconds despite its name).
        const match = /^out_time_[um]s=(\d+)/.exec(line);
        if (match && run.onProgress) run.onProgress(Number(match[1]) / 1e6);
      }
    });
    let described = !run.onInput;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
      // The input's description ends where the output's (or the stream mapping) begins.
      if (!described && /^(Output #0|Stream mapping:)/m.test(stderr)) {
        described = true;
        const probed = parseProbe(stderr);
        if (probed) run.onInput!(probed);
      }
    });
    const settle = () => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle();
      reject(
        new MediaFitError(
          'engine-missing',
          `ffmpeg (${path}) could not be started: ${error.code ?? error.message}`,
        ),
      );
    });
    child.once('close', (exitCode) => {
      settle();
      if (stopped) reject(stopped);
      else resolve({ stderr, exitCode });
    });
  });
}

/** The last lines of ffmpeg's messages, for an error a person can act on. */
export function lastMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('Press [q]'));
  return lines.slice(-2).join(' / ').slice(0, 300) || 'no message';
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('The operation was aborted', 'AbortError');
}
