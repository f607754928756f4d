import { Test } from '@nestjs/testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemporaryMediaService, WeixinMediaModule } from '../lib';
import { audioDecodeRequest } from '../lib/fit/audio-decode';
import { MediaFitter } from '../lib/fit/media-fitter';
import { FakeWeixinServer } from '../lib/testing';
import { runBenchmark } from './bench-results';

/**
 * A 60 s AMR voice to 16 kHz mono WAV: `downloadAudio` (its download from the fake over HTTP, the engine
 * check, the limiter, the temp files and the ffmpeg run) and its decoding alone, next to the ffmpeg CLI
 * doing the same conversion on a file already on disk (goal: within ×1.2).
 */
const ROUNDS = 7;
const FIXTURE = join(__dirname, '../../test/fixtures/media/voice-61s.amr');

async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'download-audio-bench-'));
  const fake = await FakeWeixinServer.start();
  const moduleRef = await Test.createTestingModule({
    imports: [
      WeixinMediaModule.forRoot({ appId: fake.appId, appSecret: fake.appSecret, apiBaseUrl: fake.baseUrl }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  try {
    const service = moduleRef.get(TemporaryMediaService);
    const amr = join(dir, 'voice-60s.amr');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-nostdin',
      '-y',
      '-i',
      FIXTURE,
      '-t',
      '60',
      '-c',
      'copy',
      '-f',
      'amr',
      amr,
    ]);
    const voice = readFileSync(amr);
    const { mediaId } = await service.uploadVoice(voice);
    const fitter = new MediaFitter({ concurrency: 1 });
    const request = audioDecodeRequest({});

    const serviceMs: number[] = [];
    const decodeMs: number[] = [];
    const cliMs: number[] = [];
    let durationMs = 0;
    // Round 0 warms every path up (the first ffmpeg start, the token, the engine discovery) and is not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      let started = performance.now();
      const audio = await service.downloadAudio(mediaId);
      if (round > 0) serviceMs.push(performance.now() - started);
      durationMs = audio.durationMs;

      started = performance.now();
      await fitter.decodeAudio(request, async () => voice);
      if (round > 0) decodeMs.push(performance.now() - started);

      started = performance.now();
      const cli = spawnSync('ffmpeg', [
        ...['-v', 'error', '-nostdin', '-y', '-i', amr, '-map', '0:a:0', '-ac', '1', '-ar', '16000'],
        ...['-c:a', 'pcm_s16le', '-f', 'wav', join(dir, 'cli.wav')],
      ]);
      if (round > 0) cliMs.push(performance.now() - started);
      if (cli.status !== 0) throw new Error(`ffmpeg CLI failed: ${cli.stderr}`);
    }
    const figures = {
      sourceBytes: voice.length,
      durationMs,
      downloadAudioMedianMs: round(median(serviceMs)),
      decodeOnlyMedianMs: round(median(decodeMs)),
      ffmpegCliMedianMs: round(median(cliMs)),
      ratio: round(median(serviceMs) / median(cliMs), 2),
      decodeOnlyRatio: round(median(decodeMs) / median(cliMs), 2),
    };
    console.log(
      `60 s AMR → 16 kHz WAV: downloadAudio ${figures.downloadAudioMedianMs} ms (decoding alone ` +
        `${figures.decodeOnlyMedianMs} ms), ffmpeg CLI ${figures.ffmpegCliMedianMs} ms, ratio ${figures.ratio} ` +
        `(decoding alone ${figures.decodeOnlyRatio}; goal ≤ 1.2)`,
    );
    return { amr60sToWav: figures };
  } finally {
    await moduleRef.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value: number, digits = 0): number {
  return +value.toFixed(digits);
}

if (require.main === module) runBenchmark('downloadAudio', run);
