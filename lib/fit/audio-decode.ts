import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaFitError } from '../errors/media-fit.error';
import type { AudioDownloadOptions, AudioFormat } from '../interfaces/downloaded-audio.interface';
import { SNIFF_BYTES } from '../media-rules/format-sniffer';
import { MEDIA_RULES } from '../media-rules/media-limits';
import { measureMp3 } from '../media-rules/mp3';
import { requireEncoders, type FfmpegDiscovery, type FfmpegEngine } from './ffmpeg-engine';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';
import type { ProbedMedia } from './probed-media';
import { sourceFormatName } from './source-format';
import { SPEEX_FRAME_BYTES, SPEEX_FRAME_MS, speexAsFlv } from './speex-framing';

/** The rates libmp3lame encodes; WAV is held to the same list so both formats take the same options. */
const SAMPLE_RATES: readonly number[] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
/** Weixin keeps no voice over 2 MB: a longer answer is not voice, and is not read on. */
export const MAX_VOICE_BYTES = MEDIA_RULES.voice.maxBytes;
/** Weixin keeps no voice over 60 s; a second more is allowed for encoder padding, past it the answer is refused. */
const MAX_VOICE_MS = MEDIA_RULES.voice.maxDurationMs! + 1000;
/** ffmpeg stops here, so a longer answer shows as one past MAX_VOICE_MS without being decoded whole. */
const CAP_SECONDS = (MAX_VOICE_MS + 1000) / 1000;
/** What `hd` answers in a container is decoded as it is (a voice with no JS-SDK recording); the rest is Speex. */
const VOICE_CONTAINERS = new Set(['amr', 'amr-wb', 'mp3']);
const MP3_BITRATE = '64k';

export interface AudioDecodeRequest {
  format: AudioFormat;
  sampleRate: number;
  /** The bytes came from `media/get/jssdk`: headerless Speex frames. */
  hd: boolean;
  signal?: AbortSignal;
}

export interface DecodedAudio {
  format: AudioFormat;
  data: Buffer;
  durationMs: number;
  from: string;
}

/** The options with their defaults; a format or rate outside the lists is a RangeError naming them. */
export function audioDecodeRequest(options: AudioDownloadOptions): AudioDecodeRequest {
  const { format = 'wav', sampleRate = 16000, hd = false, signal } = options;
  if (format !== 'wav' && format !== 'mp3') {
    throw new RangeError(`downloadAudio writes the format 'wav' or 'mp3'; got ${JSON.stringify(format)}`);
  }
  if (!SAMPLE_RATES.includes(sampleRate)) {
    throw new RangeError(
      `downloadAudio's sampleRate is one of ${SAMPLE_RATES.join(', ')} Hz; got ${JSON.stringify(sampleRate)}`,
    );
  }
  return { format, sampleRate, hd: hd === true, signal };
}

/** The ffmpeg that can write `request.format`, or `engine-missing` naming what to install. */
export function audioEngine(discovery: FfmpegDiscovery, request: AudioDecodeRequest): FfmpegEngine {
  return requireEncoders(discovery, request.format === 'mp3' ? ['libmp3lame'] : [], 'downloadAudio');
}

/**
 * Decodes voice Weixin answered (AMR-NB/WB, MP3, or with `hd` Speex frames) to mono audio at the rate asked,
 * in one ffmpeg run on a temp directory that is removed whatever happens. Answers that are not voice ffmpeg
 * can decode, or that play over 61 s, are refused with a `MediaFitError`.
 */
export async function decodeAudio(
  engine: FfmpegEngine,
  voice: Buffer,
  request: AudioDecodeRequest,
  limits: { timeoutMs: number; maxPixels: number },
): Promise<DecodedAudio> {
  const { timeoutMs, maxPixels } = limits;
  const head = voice.subarray(0, SNIFF_BYTES);
  const speex = request.hd && !VOICE_CONTAINERS.has(sourceFormatName(head));
  let input = voice;
  if (speex) {
    const { flv, frames } = speexAsFlv(voice);
    if (frames === 0) {
      throw new MediaFitError(
        'unsupported-input',
        `the high-definition voice is ${voice.length} bytes, less than one ${SPEEX_FRAME_BYTES}-byte Speex frame`,
        { type: 'voice' },
      );
    }
    if (frames * SPEEX_FRAME_MS > MAX_VOICE_MS) throw tooLong(frames * SPEEX_FRAME_MS);
    input = flv;
  } else if (voice.length === 0) {
    throw new MediaFitError('unsupported-input', 'Weixin answered the voice with 0 bytes', { type: 'voice' });
  }
  const workDir = await mkdtemp(join(tmpdir(), 'nestjs-weixin-media-audio-'));
  try {
    const source = join(workDir, 'voice');
    const output = join(workDir, `audio.${request.format}`);
    await writeFile(source, input);
    let probed: ProbedMedia | undefined;
    const result = await runFfmpeg(engine.path, {
      args: [
        // Every frame was framed here: one ffmpeg cannot decode means the answer is not Speex.
        ...(speex ? ['-xerror', '-f', 'flv'] : []),
        ...safeInput(source, maxPixels),
        ...['-t', String(CAP_SECONDS), '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1'],
        // No encoder tags: a plain 44-byte WAV header, which every speech API reads.
        ...['-fflags', '+bitexact', '-flags:a', '+bitexact', '-ac', '1', '-ar', String(request.sampleRate)],
        ...(request.format === 'wav'
          ? ['-c:a', 'pcm_s16le', '-f', 'wav']
          : ['-c:a', 'libmp3lame', '-b:a', MP3_BITRATE, '-f', 'mp3']),
        ...['-y', `file:${output}`],
      ],
      type: 'voice',
      timeoutMs,
      signal: request.signal,
      onInput: (described) => (probed = described),
    });
    if (result.exitCode !== 0) throw decodeFailure(result.stderr, probed, speex);
    const data = await readFile(output);
    const durationMs =
      request.format === 'wav'
        ? Math.round((wavDataBytes(data) / (request.sampleRate * 2)) * 1000)
        : measureMp3(data).durationMs;
    if (durationMs === 0) {
      throw new MediaFitError('unsupported-input', 'this voice has no audio ffmpeg can decode', {
        type: 'voice',
      });
    }
    if (durationMs > MAX_VOICE_MS) {
      const described = (probed?.durationSeconds ?? 0) * 1000;
      throw tooLong(described > MAX_VOICE_MS ? Math.round(described) : undefined);
    }
    const from = speex ? 'speex' : sourceFormatName(head, probed?.container);
    return { format: request.format, data, durationMs, from };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function decodeFailure(stderr: string, probed: ProbedMedia | undefined, speex: boolean): MediaFitError {
  if (!probed) {
    return new MediaFitError('unsupported-input', `ffmpeg cannot read this voice: ${lastMessage(stderr)}`, {
      type: 'voice',
    });
  }
  if (/matches no streams/.test(stderr)) {
    return new MediaFitError('unsupported-input', 'this voice has no audio stream', { type: 'voice' });
  }
  const what = speex ? 'this high-definition voice as Speex' : 'this voice';
  return new MediaFitError('failed', `ffmpeg could not decode ${what}: ${lastMessage(stderr)}`, {
    type: 'voice',
  });
}

function tooLong(actualMs: number | undefined): MediaFitError {
  const plays =
    actualMs === undefined ? `more than ${MAX_VOICE_MS / 1000} s` : `${(actualMs / 1000).toFixed(1)} s`;
  return new MediaFitError(
    'input-too-large',
    `this voice plays ${plays}; Weixin keeps voice of at most ${MEDIA_RULES.voice.maxDurationMs! / 1000} s, ` +
      `so downloadAudio decodes at most ${MAX_VOICE_MS / 1000} s`,
    { type: 'voice', limit: MAX_VOICE_MS, actual: actualMs },
  );
}

/** The bytes of a WAV file's data chunk (ffmpeg writes its size once done, to a file). */
function wavDataBytes(wav: Buffer): number {
  for (let at = 12; at + 8 <= wav.length;) {
    const size = wav.readUInt32LE(at + 4);
    if (wav.toString('latin1', at, at + 4) === 'data') return Math.min(size, wav.length - at - 8);
    at += 8 + size + (size & 1);
  }
  return 0;
}
