import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

const run = promisify(execFile);

/**
 * Inputs for the fit specs, made at test time with the system's ffmpeg into a private temp directory
 * (a few seconds of media each, small frames), and an independent reader of outputs: ffprobe.
 */
export class FitMediaDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'fit-spec-'));

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Runs `ffmpeg -y <args> <dir/name>` and answers the output's path. */
  async ffmpeg(name: string, args: string[]): Promise<string> {
    const output = this.path(name);
    await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args, output], { maxBuffer: 1 << 20 });
    return output;
  }

  /** A tone of `seconds` in the format `name`'s extension (or `codec`) implies. */
  audio(name: string, seconds: number, codec: string[] = [], rate = 44100): Promise<string> {
    return this.ffmpeg(name, [
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${seconds}:sample_rate=${rate}`,
      ...codec,
    ]);
  }

  /** A test pattern with a tone, `width`×`height`. */
  video(name: string, seconds: number, width: number, height: number, codec: string[] = []): Promise<string> {
    return this.ffmpeg(name, [
      ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25:duration=${seconds}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}`],
      '-shortest',
      ...codec,
    ]);
  }

  /** One 12000×12000 H.264 frame of one colour in a Matroska file of about 400 KB (decoded: 216 MB). */
  hugeFrameMkv(name: string): Promise<string> {
    return this.ffmpeg(name, [
      ...['-f', 'lavfi', '-i', 'color=c=navy:s=12000x12000:d=1:r=1', '-frames:v', '1'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast'],
    ]);
  }

  /**
   * A real PNG whose compressed pixels (IDAT) are scrambled, every chunk's CRC still right: its header
   * and structure read as a PNG, its pixels fail only when decoded.
   */
  async damagedPng(name: string, width = 320, height = 240): Promise<string> {
    const path = await this.ffmpeg(name, [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}`,
      '-frames:v',
      '1',
    ]);
    const png = readFileSync(path);
    for (let at = 8; at < png.length; at += 12 + png.readUInt32BE(at)) {
      const length = png.readUInt32BE(at);
      if (png.toString('latin1', at + 4, at + 8) !== 'IDAT') continue;
      // After the 2-byte zlib header: the deflate stream itself.
      for (let i = at + 8 + 2; i < at + 8 + length; i++) png[i] ^= 0x5a;
      png.writeUInt32BE(crc32(png.subarray(at + 4, at + 8 + length)), at + 8 + length);
    }
    writeFileSync(path, png);
    return path;
  }

  /** A real lossy WebP whose VP8 payload is scrambled past its frame header (which says the size). */
  async damagedWebp(name: string, width = 320, height = 240): Promise<string> {
    const path = await this.ffmpeg(name, [
      ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}`, '-frames:v', '1', '-c:v', 'libwebp'],
    ]);
    const webp = readFileSync(path);
    const vp8 = webp.indexOf('VP8 ', 12, 'latin1');
    if (vp8 < 0) throw new Error(`${name}: no lossy VP8 chunk`);
    // The chunk header (8 bytes), then the frame tag, start code and size (10 bytes), then the partitions.
    for (let i = vp8 + 8 + 10 + 10; i < webp.length; i++) webp[i] ^= 0xa5;
    writeFileSync(path, webp);
    return path;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RecordedRun {
  pid: number;
  args: string;
  /** Whether it has ended (it may also have been killed while held). */
  ended: boolean;
}

/**
 * An `fit.ffmpegPath` that is a shell script: it logs each run's start (pid, arguments) and end to a file,
 * then runs the system's ffmpeg. `hold()` makes new runs wait (after logging their start, before starting
 * ffmpeg) until `release()`, so a spec can act while a run is certainly in flight; a held run that is
 * killed ends without ever starting ffmpeg. `ffmpeg -encoders` (the engine's discovery) is never held.
 */
export class RecordedFfmpeg {
  readonly path: string;
  private readonly log: string;
  private readonly holdFile: string;

  constructor(media: FitMediaDir, name = 'recorded-ffmpeg') {
    this.path = media.path(name);
    this.log = media.path(`${name}.log`);
    this.holdFile = media.path(`${name}.hold`);
    writeFileSync(this.log, '');
    writeFileSync(
      this.path,
      [
        '#!/bin/sh',
        `echo "start $$ $*" >> '${this.log}'`,
        `case "$*" in *-encoders*) ;; *) while [ -e '${this.holdFile}' ]; do sleep 0.01; done ;; esac`,
        'ffmpeg "$@"',
        'status=$?',
        `echo "end $$" >> '${this.log}'`,
        'exit $status',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  }

  hold(): void {
    writeFileSync(this.holdFile, '');
  }

  release(): void {
    rmSync(this.holdFile, { force: true });
  }

  /** Every run so far, in the order they started. */
  runs(): RecordedRun[] {
    const runs = new Map<number, RecordedRun>();
    for (const line of this.lines()) {
      const [event, pid, ...args] = line.split(' ');
      if (event === 'start') runs.set(Number(pid), { pid: Number(pid), args: args.join(' '), ended: false });
      else runs.get(Number(pid))!.ended = true;
    }
    return [...runs.values()];
  }

  /** The most runs that were in flight at one moment (ffmpeg, or the script holding before it). */
  mostAtOnce(): number {
    let running = 0;
    let most = 0;
    for (const line of this.lines()) {
      running += line.startsWith('start ') ? 1 : -1;
      most = Math.max(most, running);
    }
    return most;
  }

  /** Waits until `count` runs besides the discovery (`-encoders`) have started; answers the last of them. */
  async started(count: number): Promise<RecordedRun> {
    for (let i = 0; i < 2000; i++) {
      const runs = this.runs().filter((run) => !run.args.includes('-encoders'));
      if (runs.length >= count) return runs[count - 1];
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`ffmpeg run ${count} never started: ${JSON.stringify(this.runs())}`);
  }

  private lines(): string[] {
    return readFileSync(this.log, 'utf8').split('\n').filter(Boolean);
  }
}

export interface Probed {
  formatName: string;
  durationSeconds: number;
  bytes: number;
  video?: { codec: string; width: number; height: number; profile?: string; pixFmt?: string };
  audio?: { codec: string; channels: number; sampleRate: number; bitRate?: number };
}

/** ffprobe's view of a file, independent of the code under test. */
export async function ffprobe(path: string): Promise<Probed> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path],
  ]);
  const parsed = JSON.parse(stdout) as {
    format: { format_name: string; duration?: string; size: string };
    streams: Array<Record<string, string | number | undefined>>;
  };
  const video = parsed.streams.find((stream) => stream.codec_type === 'video');
  const audio = parsed.streams.find((stream) => stream.codec_type === 'audio');
  return {
    formatName: parsed.format.format_name,
    durationSeconds: Number(parsed.format.duration),
    bytes: statSync(path).size,
    video: video && {
      codec: String(video.codec_name),
      width: Number(video.width),
      height: Number(video.height),
      profile: video.profile as string | undefined,
      pixFmt: video.pix_fmt as string | undefined,
    },
    audio: audio && {
      codec: String(audio.codec_name),
      channels: Number(audio.channels),
      sampleRate: Number(audio.sample_rate),
      bitRate: audio.bit_rate === undefined ? undefined : Number(audio.bit_rate),
    },
  };
}

/** The pids of this process's children whose command is `name` (from /proc). */
export function childProcesses(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = /\((.*)\)/.exec(stat)?.[1];
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (command === name && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
