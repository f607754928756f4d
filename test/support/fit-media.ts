import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

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

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
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
