import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaSourceError } from '../errors/media-source.error';
import { MediaValidationError } from '../errors/media-validation.error';
import type { FitOptions, FitSupport, FittedMedia, WeixinMediaFitOptions } from '../interfaces/fit.interface';
import type { MediaInspection, MediaType } from '../interfaces/media.interface';
import { SNIFF_BYTES } from '../media-rules/format-sniffer';
import { assertMediaType, inspectMediaContent } from '../media-rules/inspect-media';
import { bufferContent, type MediaContent } from '../media-rules/media-content';
import { formatBytes } from '../media-rules/media-limits';
import {
  audioEngine,
  decodeAudio,
  MAX_VOICE_BYTES,
  type AudioDecodeRequest,
  type DecodedAudio,
} from './audio-decode';
import { FFMPEG_ENCODERS, findFfmpegOnce, requireEncoders, type FfmpegDiscovery } from './ffmpeg-engine';
import { probeMedia } from './ffmpeg-probe';
import type { FfmpegWork } from './ffmpeg-runner';
import { fitImageSource } from './image-source';
import { FitLimiter } from './fit-limiter';
import { loadSharp, sharpVersion } from './sharp-engine';
import { sourceFormatName } from './source-format';
import { fitVideo } from './video-fit';
import { fitVoice } from './voice-fit';

export const FIT_DEFAULTS = {
  timeoutMs: 120_000,
  maxInputBytes: 200 * 1024 * 1024,
  maxInputPixels: 100_000_000,
} as const;

/** A source to fit: random access to its bytes, and its file when it has one (ffmpeg reads files). */
export interface FitInput {
  content: MediaContent;
  path?: string;
}

export interface FitRequest extends FitOptions {
  signal?: AbortSignal;
  /** Seconds of media converted out of the total (images: 0 of 1, then 1 of 1). */
  onProgress?: (done: number, total: number) => void;
}

/** What a fit found and made; `sourceDurationMs` is the source's playing time when it was measured. */
export interface FitOutcome extends FittedMedia {
  sourceDurationMs?: number;
}

/** Sources that fail only these rules can be converted; an empty file or a wrong type cannot. */
const FITTABLE = new Set(['unsupported-format', 'too-large', 'too-long', 'unreadable']);

/**
 * Makes media pass Weixin's rules on this machine: images with sharp, voice and video with ffmpeg, at most
 * `concurrency` at a time, each in a temp directory that is removed whatever happens. A source that
 * passes already is answered as it is; a converted one is checked by the same rules before it is answered.
 */
export class MediaFitter {
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxInputBytes: number;
  readonly maxInputPixels: number;
  protected readonly limiter: FitLimiter;
  protected ffmpeg?: Promise<FfmpegDiscovery>;

  constructor(protected readonly options: WeixinMediaFitOptions = {}) {
    this.concurrency = options.concurrency ?? availableParallelism();
    this.timeoutMs = options.timeoutMs ?? FIT_DEFAULTS.timeoutMs;
    this.maxInputBytes = options.maxInputBytes ?? FIT_DEFAULTS.maxInputBytes;
    this.maxInputPixels = options.maxInputPixels ?? FIT_DEFAULTS.maxInputPixels;
    this.limiter = new FitLimiter(this.concurrency);
  }

  /** Conversions running and waiting now. */
  get load(): { running: number; waiting: number } {
    return this.limiter.load;
  }

  /** Which conversions this machine can do, the engines found, and what to install for the rest. */
  async support(): Promise<FitSupport> {
    const { sharp, problem } = loadSharp();
    const ffmpeg = await this.findFfmpeg();
    const missing: string[] = [];
    if (!sharp) missing.push(`image and thumb: ${problem}`);
    const can = (type: 'voice' | 'video') => {
      try {
        requireEncoders(ffmpeg, FFMPEG_ENCODERS[type], type);
        return true;
      } catch (error) {
        missing.push(`${type}: ${(error as Error).message}`);
        return false;
      }
    };
    const voice = can('voice');
    const video = can('video');
    const engines: FitSupport['engines'] = {};
    if (sharp) engines.sharp = sharpVersion(sharp);
    if (ffmpeg.engine) engines.ffmpeg = `${ffmpeg.engine.version} (${ffmpeg.engine.path})`;
    return { image: !!sharp, thumb: !!sharp, voice, video, engines, missing };
  }

  /**
   * Decodes voice downloaded from Weixin for speech recognition (see `decodeAudio`): the engine is checked
   * before `read` downloads at most `maxBytes` (Weixin's voice limit, or `fit.maxInputBytes` when lower),
   * and the decoding is one of the `concurrency` conversions.
   */
  async decodeAudio(
    request: AudioDecodeRequest,
    read: (maxBytes: number) => Promise<Buffer>,
  ): Promise<DecodedAudio> {
    const engine = audioEngine(await this.findFfmpeg(), request);
    const voice = await read(Math.min(this.maxInputBytes, MAX_VOICE_BYTES));
    return this.limiter.run(
      () =>
        decodeAudio(engine, voice, request, { timeoutMs: this.timeoutMs, maxPixels: this.maxInputPixels }),
      request.signal,
    );
  }

  /** Runs `work` with ffmpeg on the input as a file, as one of the `concurrency` conversions; undefined without ffmpeg. */
  async withFfmpeg<T>(input: FitInput, work: (run: FfmpegWork) => Promise<T>, signal?: AbortSignal) {
    const { engine } = await this.findFfmpeg();
    if (!engine) return undefined;
    const { timeoutMs, maxInputPixels } = this;
    return this.limiter.run(
      () =>
        this.inWorkspace(input, (source, workDir) =>
          work({ ffmpeg: engine.path, source, workDir, timeoutMs, maxInputPixels, signal }),
        ),
      signal,
    );
  }

  /** Answers media that passes the rules of `type`: the source itself when it passes, else a conversion. */
  async fit(type: MediaType, input: FitInput, request: FitRequest = {}): Promise<FitOutcome> {
    assertMediaType(type);
    const { signal } = request;
    signal?.throwIfAborted();
    const { content } = input;
    if (content.size > this.maxInputBytes) {
      throw new MediaFitError(
        'input-too-large',
        `this ${type} source is ${formatBytes(content.size)}; fit reads at most ` +
          `${formatBytes(this.maxInputBytes)} (fit.maxInputBytes)`,
        { type, limit: this.maxInputBytes, actual: content.size },
      );
    }
    try {
      const head = await content.read(0, SNIFF_BYTES);
      const passing = await this.passing(type, content, request);
      const outcome: FitOutcome = passing
        ? { ...passing, data: await content.read(0, content.size), converted: false, from: passing.format }
        : await this.limiter.run(() => this.convert(type, input, head, request), signal);
      // Steps that cannot stop midway (a sharp encode, the rules' reads) may end after an abort.
      signal?.throwIfAborted();
      return outcome;
    } catch (error) {
      // An abort wins over what the stopped work answered (a killed probe reads as an unreadable source).
      signal?.throwIfAborted();
      throw typedFailure(type, error);
    }
  }

  /** The inspection when the source passes as it is; undefined when a conversion could make it pass. */
  protected async passing(
    type: MediaType,
    content: MediaContent,
    request: FitRequest,
  ): Promise<MediaInspection | undefined> {
    try {
      const inspection = await inspectMediaContent(type, content);
      // Weixin plays H.264; an MP4 of another codec passes the container rules but is converted.
      if (type === 'video' && (await this.isOtherCodecMp4(content, request))) return undefined;
      return inspection;
    } catch (error) {
      if (!(error instanceof MediaValidationError) || !FITTABLE.has(error.reason)) throw error;
      if (error.reason === 'too-long' && !request.trim) throw withTrimHint(error);
      return undefined;
    }
  }

  /** An ffmpeg run like the conversions, so it waits for a turn of `fit.concurrency` as they do. */
  protected isOtherCodecMp4(content: MediaContent, request: FitRequest): Promise<boolean> {
    const { signal } = request;
    return this.limiter.run(async () => {
      const { engine } = await this.findFfmpeg();
      if (!engine) return false;
      return this.inWorkspace({ content }, async (path) => {
        const probed = await probeMedia(engine, path, 'video', this.maxInputPixels, signal).catch(
          () => undefined,
        );
        return probed?.video !== undefined && probed.video.codec !== 'h264';
      });
    }, signal);
  }

  protected async convert(
    type: MediaType,
    input: FitInput,
    head: Buffer,
    request: FitRequest,
  ): Promise<FitOutcome> {
    const { signal, onProgress } = request;
    const made = await this.inWorkspace(input, async (source, workDir) => {
      if (type === 'image' || type === 'thumb') {
        onProgress?.(0, 1);
        const image = await fitImageSource({
          type,
          source,
          workDir,
          maxInputPixels: this.maxInputPixels,
          timeoutMs: this.timeoutMs,
          signal,
          ffmpeg: () => this.findFfmpeg(),
        });
        onProgress?.(1, 1);
        return { data: image.data, from: sourceFormatName(head, image.engineFormat) };
      }
      const engine = requireEncoders(await this.findFfmpeg(), FFMPEG_ENCODERS[type], `fitting ${type}`);
      const { timeoutMs, maxInputPixels } = this;
      const run = { engine, source, workDir, timeoutMs, maxInputPixels, signal, onProgress };
      // Voice is converted in one run that describes its input on the way; video needs the duration first.
      const media =
        type === 'voice'
          ? await fitVoice({ ...run, trim: request.trim === true })
          : await fitVideo({
              ...run,
              probed: await probeMedia(engine, source, type, maxInputPixels, signal),
            });
      const seconds = media.source?.durationSeconds;
      return {
        data: media.data,
        from: sourceFormatName(head, media.source?.container),
        sourceDurationMs: seconds !== undefined ? Math.round(seconds * 1000) : undefined,
        durationMs: media.durationMs,
      };
    });
    const inspection = await inspectMediaContent(type, bufferContent(made.data));
    const durationMs = inspection.durationMs ?? made.durationMs;
    return {
      ...inspection,
      ...(durationMs !== undefined ? { durationMs } : {}),
      data: made.data,
      converted: true,
      from: made.from,
      ...(made.sourceDurationMs !== undefined ? { sourceDurationMs: made.sourceDurationMs } : {}),
    };
  }

  /** Runs `work` on the source as a file, in a temp directory removed afterwards on every path. */
  protected async inWorkspace<T>(
    { content, path }: FitInput,
    work: (source: string, workDir: string) => Promise<T>,
  ): Promise<T> {
    const workDir = await mkdtemp(join(tmpdir(), 'nestjs-weixin-media-fit-'));
    try {
      let source = path;
      if (source === undefined) {
        source = join(workDir, 'source');
        await writeFile(source, await content.read(0, content.size));
      }
      return await work(source, workDir);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  protected findFfmpeg(): Promise<FfmpegDiscovery> {
    return (this.ffmpeg ??= findFfmpegOnce(this.options.ffmpegPath));
  }
}

/** A failure the engines did not type (a decoder's exception, a temp file's error) as `failed`, never raw. */
function typedFailure(type: MediaType, error: unknown): unknown {
  if (
    error instanceof MediaFitError ||
    error instanceof MediaValidationError ||
    error instanceof MediaSourceError
  ) {
    return error;
  }
  const message = String((error as Error)?.message ?? error).split('\n')[0];
  return new MediaFitError('failed', `fitting this ${type} source failed: ${message}`, { type });
}

function withTrimHint(error: MediaValidationError): MediaValidationError {
  return new MediaValidationError(
    'too-long',
    `${error.message} (fit with { trim: true } to cut it to the limit)`,
    {
      type: error.type,
      limit: error.limit,
      actual: error.actual,
    },
  );
}
