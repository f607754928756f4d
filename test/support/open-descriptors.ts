import { readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * What each open descriptor of this process points at (`/proc/self/fd`): a file's path, or its kind
 * (`socket:[]`, `pipe:[]`, `anon_inode:[eventfd]`) without the inode number, which changes on reopen.
 */
export function openDescriptors(): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      targets.push(readlinkSync(`/proc/self/fd/${fd}`).replace(/:\[\d+\]$/, ':[]'));
    } catch {
      // The descriptor readdir itself used, closed by now.
    }
  }
  return targets.sort();
}

/** The open descriptors once the count holds still: sockets closed a moment ago are reaped by then. */
export async function settledDescriptors(): Promise<string[]> {
  let last = openDescriptors();
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = openDescriptors();
    if (now.length === last.length) return now;
    last = now;
  }
  return last;
}

/** The library's temp files (spooled streams, controller uploads) left in the temp dir. */
export function spooledFiles(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('nestjs-weixin-media-'));
}

/**
 * The descriptors open now beyond `before`, after letting sockets the peer closed be reaped (that
 * takes a few event-loop turns): empty when nothing leaked.
 */
export async function leakedDescriptors(before: readonly string[], settleMs = 2_000): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const extra = openDescriptors();
    for (const target of before) {
      const index = extra.indexOf(target);
      if (index >= 0) extra.splice(index, 1);
    }
    if (extra.length === 0 || Date.now() >= deadline) return extra;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
