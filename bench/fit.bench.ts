import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { MediaFitter } from '../lib/fit/media-fitter';
import { fitThumb, readImageHeader } from '../lib/fit/image-fit';
import type { SharpFactory } from '../lib/fit/sharp-engine';
import { openFileContent } from '../lib/media-rules/file-content';
import { runBenchmark } from './bench-results';

/**
 * Fit against the tools themselves: a 30 s WAV to MP3 next to the ffmpeg CLI doing the same conversion
 * (the overhead of probing, the limiter and the rules check), a 4000×3000 JPEG to a thumb (time and
 * encodes of the size/quality search), and a 1-minute 720p MOV to a Weixin MP4 (time and size).
 */
const ROUNDS = 5;

async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'fit-bench-'));
  const ffmpeg = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args]);
  try {
    const fitter = new MediaFitter({ concurrency: 1 });
    const fitFile = async (type: 'voice' | 'video', path: string) => {
      const content = await openFileContent(path);
      try {
        return await fitter.fit(type, { content, path });
      } finally {
        await content.close();
      }
    };

    const wav = join(dir, 'speech.wav');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=30:sample_rate=44100', '-ac', '2', wav]);
    const fitMs: number[] = [];
    const cliMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now();
      await fitFile('voice', wav);
      fitMs.push(performance.now() - started);
      started = performance.now();
      const cli = spawnSync('ffmpeg', [
        ...['-v', 'error', '-nostdin', '-y', '-i', wav, '-map', '0:a:0', '-ac', '1', '-ar', '44100'],
        ...['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3', join(dir, 'cli.mp3')],
      ]);
      cliMs.push(performance.now() - started);
      if (cli.status !== 0) throw new Error(`ffmpeg CLI failed: ${cli.stderr}`);
    }
    const voice = {
      fitMedianMs: round(median(fitMs)),
      ffmpegCliMedianMs: round(median(cliMs)),
      ratio: round(median(fitMs) / median(cliMs), 2),
    };
    console.log(
      `30 s WAV → MP3: fit ${voice.fitMedianMs} ms, ffmpeg CLI ${voice.ffmpegCliMedianMs} ms, ratio ${voice.ratio}`,
    );

    const jpeg = join(dir, 'camera.jpg');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=4000x3000', '-frames:v', '1', '-q:v', '2', jpeg]);
    const factory = sharp as unknown as SharpFactory;
    const thumbMs: number[] = [];
    let thumb = { encodes: 0, bytes: 0, width: 0, height: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const header = await readImageHeader(factory, jpeg, 'thumb', 1e8);
      const result = await fitThumb(factory, jpeg, header, 1e8);
      thumbMs.push(performance.now() - started);
      thumb = {
        encodes: result.encodes,
        bytes: result.data.length,
        width: result.width,
        height: result.height,
      };
    }
    const thumbs = { medianMs: round(median(thumbMs)), ...thumb, sourceBytes: statSync(jpeg).size };
    console.log(
      `4000×3000 JPEG → thumb: ${thumbs.medianMs} ms, ${thumbs.encodes} encodes, ` +
        `${thumbs.width}×${thumbs.height}, ${thumbs.bytes} bytes`,
    );

    const mov = join(dir, 'clip.mov');
    ffmpeg([
      ...[
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=1280x720:rate=25:duration=60',
        '-f',
        'lavfi',
        '-i',
        'sine=duration=60',
      ],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-c:a', 'aac', '-shortest', mov],
    ]);
    const started = performance.now();
    const video = await fitFile('video', mov);
    const videos = {
      ms: round(performance.now() - started),
      sourceBytes: statSync(mov).size,
      outputBytes: video.data.length,
      durationMs: video.durationMs,
    };
    console.log(
      `1-minute 1280×720 MOV → MP4: ${videos.ms} ms, ${videos.sourceBytes} → ${videos.outputBytes} bytes`,
    );
    return { voiceWav30s: voice, thumbJpeg4000x3000: thumbs, videoMov60s720p: videos };
  } finally {
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

if (require.main === module) runBenchmark('fit', run);
