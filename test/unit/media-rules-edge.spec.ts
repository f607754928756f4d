import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MediaType } from '../../lib/interfaces/media.interface';
import { inspectMediaContent } from '../../lib/media-rules/inspect-media';
import { bufferContent, type MediaContent } from '../../lib/media-rules/media-content';
import { MEDIA_TYPES } from '../../lib/media-rules/media-limits';
import { measureMp3 } from '../../lib/media-rules/mp3';
import { readMp4Layout } from '../../lib/media-rules/mp4';
import {
  amrFile,
  exifSegment,
  ftypBox,
  iccSegments,
  id3PictureFrame,
  id3v2Tag,
  isoBox,
  isoBoxToEnd,
  isoLargeBox,
  jpegSegment,
  moovBox,
  mp3Frame,
  mp3FrameMs,
  mp3Frames,
  randomBytes,
  seededRandom,
  withJpegSegments,
  xingFrame,
  type Mp3FrameSpec,
  type MpegVersion,
} from '../support/media-builders';
import { mediaOutcome as outcome } from '../support/media-outcome';
import { mediaFixture, REPO_ROOT } from '../support/paths';

const EDGE_DIR = join(REPO_ROOT, 'test/fixtures/media-edge');

interface Manifest {
  files: Record<string, Partial<Record<MediaType, string>> & { durationMs?: number; how: string }>;
}

/** Content that counts what the rules read. */
function countingContent(
  buffer: Buffer,
  inMemory = false,
): MediaContent & { bytesRead: number; reads: number } {
  const counting = {
    size: buffer.length,
    inMemory,
    bytesRead: 0,
    reads: 0,
    read: async (offset: number, length: number) => {
      const bytes = buffer.subarray(offset, Math.min(buffer.length, offset + length));
      counting.bytesRead += bytes.length;
      counting.reads++;
      return bytes;
    },
  };
  return counting;
}

describe('media rules: every edge fixture in test/fixtures/media-edge/MANIFEST.json', () => {
  const manifest: Manifest = JSON.parse(readFileSync(join(EDGE_DIR, 'MANIFEST.json'), 'utf8'));

  it('lists every fixture file of the folder', () => {
    const notFixtures = /^(MANIFEST\.json|README\.md|generate\.ts)$/;
    const files = readdirSync(EDGE_DIR).filter((name) => !notFixtures.test(name));
    assert.deepEqual(files.sort(), Object.keys(manifest.files).sort());
  });

  for (const [name, expected] of Object.entries(manifest.files)) {
    for (const type of MEDIA_TYPES) {
      const listed = expected[type];
      if (!listed) continue;
      it(`${name} as ${type} → ${listed}`, async () => {
        const file = readFileSync(join(EDGE_DIR, name));
        const { outcome: got, result, error } = await outcome(type, bufferContent(file));
        assert.equal(got, listed, `${expected.how}: ${error?.message}`);
        if (type === 'voice' && expected.durationMs !== undefined) {
          const measured = result?.durationMs ?? error?.actual;
          assert.ok(measured !== undefined);
          const truth = expected.durationMs;
          assert.ok(Math.abs(measured - truth) <= 100, `measured ${measured} ms, expected ${truth} ms`);
        }
      });
    }
  }
});

describe('MP3 frame walk', () => {
  const versions: MpegVersion[] = [1, 2, 2.5];
  const rates: Record<MpegVersion, number[]> = {
    1: [44100, 48000, 32000],
    2: [22050, 24000, 16000],
    2.5: [11025, 12000, 8000],
  };
  const bitrates: Record<MpegVersion, number[]> = { 1: [32, 128, 320], 2: [8, 64, 160], 2.5: [8, 32, 64] };

  for (const version of versions) {
    for (const sampleRate of rates[version]) {
      it(`MPEG-${version} ${sampleRate} Hz: every bitrate, mono and stereo, with and without CRC`, () => {
        for (const bitrateKbps of bitrates[version]) {
          for (const mono of [false, true]) {
            for (const crc of [false, true]) {
              const spec: Mp3FrameSpec = { version, sampleRate, bitrateKbps, mono, crc };
              const frames = mp3Frames(40, (i) => ({ ...spec, padding: i % 2 === 1 }));
              const audio = Buffer.concat([xingFrame(spec, 40, 0), frames]);
              const measured = measureMp3(audio);
              assert.equal(measured.frames, 40, JSON.stringify(spec));
              assert.equal(measured.vbrHeader, true);
              assert.equal(measured.durationMs, Math.round(40 * mp3FrameMs(spec)));
            }
          }
        }
      });
    }
  }

  it('is not fooled by payloads full of frame-header look-alikes', () => {
    const random = seededRandom(99);
    const lookAlikes = (length: number) => {
      const payload = randomBytes(length, random);
      for (let i = 0; i + 4 < length; i += 37) payload.set([0xff, 0xfb, 0x90, 0x44], i);
      return payload;
    };
    const spec: Mp3FrameSpec = { version: 1, sampleRate: 44100, bitrateKbps: 192 };
    const audio = Buffer.concat(Array.from({ length: 300 }, () => mp3Frame(spec, lookAlikes)));
    assert.equal(measureMp3(audio).frames, 300);
  });

  it('skips a 1.8 MB cover art tag (read past the sniffed head) and measures what follows', async () => {
    const random = seededRandom(5);
    const lookAlikes = mp3Frames(2000, { version: 2, sampleRate: 22050 });
    const cover = Buffer.concat([randomBytes(900_000, random), lookAlikes]);
    const tag = id3v2Tag({ version: 3, body: id3PictureFrame(3, cover) });
    const frames = mp3Frames(190, { version: 1, sampleRate: 44100, bitrateKbps: 128 });
    const file = Buffer.concat([tag, frames]);
    assert.ok(file.length < 2 * 1024 * 1024);
    const result = await inspectMediaContent('voice', bufferContent(file));
    assert.equal(result.format, 'mp3');
    assert.equal(result.durationMs, Math.round(190 * mp3FrameMs({ version: 1, sampleRate: 44100 })));
  });

  it('names AAC behind an ID3 tag larger than the sniffed head', async () => {
    const adts = Buffer.concat([Buffer.from('fff15080021ffc', 'hex'), Buffer.alloc(9)]);
    const file = Buffer.concat([id3v2Tag({ version: 4, padding: 20_000 }), adts, adts, adts]);
    const { error } = await outcome('voice', bufferContent(file));
    assert.equal(error?.message, 'this is AAC (ADTS) audio with an ID3 tag; voice accepts AMR or MP3');
  });

  it('resynchronises across a stream whose sample rate changes (two files joined)', () => {
    const first: Mp3FrameSpec = { version: 1, sampleRate: 44100, bitrateKbps: 128 };
    const second: Mp3FrameSpec = { version: 2, sampleRate: 16000, bitrateKbps: 32 };
    const joined = Buffer.concat([mp3Frames(100, first), id3v2Tag(), mp3Frames(50, second)]);
    const expected = Math.round(100 * mp3FrameMs(first) + 50 * mp3FrameMs(second));
    assert.ok(Math.abs(measureMp3(joined).durationMs - expected) <= 100);
  });

  it('walks a 2 MB MP3 in a few milliseconds', async () => {
    const spec: Mp3FrameSpec = { version: 1, sampleRate: 44100, bitrateKbps: 320 };
    const file = mp3Frames(2000, (i) => ({ ...spec, padding: i % 49 !== 0 }));
    const content = bufferContent(file);
    await inspectMediaContent('voice', content);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) await inspectMediaContent('voice', content);
    const msEach = Number(process.hrtime.bigint() - started) / 1e6 / 20;
    assert.ok(msEach < 5, `${msEach.toFixed(2)} ms per inspection`);
  });
});

describe('AMR frame walk', () => {
  it('sizes every frame type from its header', async () => {
    const types = [0, 1, 2, 3, 4, 5, 6, 7, 8, 15];
    const file = amrFile(Array.from({ length: 500 }, (_, i) => types[i % types.length]));
    const result = await inspectMediaContent('voice', bufferContent(file));
    // A wrong size for any type would break the walk; the 50 NO_DATA frames carry no audio.
    assert.equal(result.durationMs, 450 * 20);
  });

  it('refuses frame types 9-14 and headers with padding bits, which storage files never hold', async () => {
    for (const header of [9 << 3, 12 << 3, 14 << 3, (7 << 3) | 0x80, (7 << 3) | 0x01]) {
      const file = Buffer.concat([amrFile([7, 7, 7]), Buffer.from([header]), Buffer.alloc(40)]);
      const { error } = await outcome('voice', bufferContent(file));
      assert.equal(error?.reason, 'unreadable', `header 0x${header.toString(16)}`);
      assert.match(error.message, /not an AMR-NB frame header, so the playing time after 60 ms cannot be/);
    }
  });
});

describe('JPEG segment walk', () => {
  it('finds SOF behind 140 KB of EXIF and ICC segments, re-reading past its first window', async () => {
    const segments = [exifSegment(60_000), ...iccSegments(80_000)];
    const jpeg = withJpegSegments(readFileSync(mediaFixture('thumb.jpg')), segments);
    const content = countingContent(jpeg);
    assert.equal((await outcome('image', content)).outcome, 'ok:jpeg');
    assert.equal((await outcome('thumb', content)).outcome, 'too-large');
  });

  it('reads the header of a large JPEG only', async () => {
    const jpeg = readFileSync(mediaFixture('thumb-too-large.jpg'));
    const content = countingContent(jpeg);
    assert.equal((await outcome('image', content)).outcome, 'ok:jpeg');
    assert.ok(content.bytesRead <= 4096 + 64 * 1024, `${content.bytesRead} bytes read of ${jpeg.length}`);
  });

  it('jumps over 1 MB of comment segments in memory reading only their headers (no read-ahead to copy)', async () => {
    const comments = Array.from({ length: 16 }, () => jpegSegment(0xfe, Buffer.alloc(65_000, 0x20)));
    const jpeg = withJpegSegments(readFileSync(mediaFixture('thumb.jpg')), comments);
    const inMemory = countingContent(jpeg, true);
    assert.equal((await outcome('image', inMemory)).outcome, 'ok:jpeg');
    assert.ok(inMemory.bytesRead < 3 * 4096, `${inMemory.bytesRead} bytes read in memory`);
    const onDisk = countingContent(jpeg);
    assert.equal((await outcome('image', onDisk)).outcome, 'ok:jpeg');
    // From a file, a window of 64 KB at each other segment: the read-ahead pays there, not in memory.
    assert.ok(onDisk.bytesRead >= 8 * 64 * 1024, `${onDisk.bytesRead} bytes read through windows`);
  });
});

describe('MP4 box walk', () => {
  it('walks top-level boxes by their headers: moov at the end of a 10 MB file', async () => {
    const file = Buffer.concat([
      ftypBox('isom', ['isom', 'mp41']),
      isoBox('free', Buffer.alloc(0)),
      isoBox('mdat', Buffer.alloc(10 * 1024 * 1024 - 1000)),
      moovBox(5000),
    ]);
    const content = countingContent(file);
    const layout = await readMp4Layout(content);
    assert.deepEqual(
      layout.boxes.map((box) => box.type),
      ['ftyp', 'free', 'mdat', 'moov'],
    );
    assert.equal(layout.complete, true);
    assert.equal((await outcome('video', content)).outcome, 'ok:mp4');
    assert.ok(content.bytesRead < 16 * 1024, `${content.bytesRead} bytes read`);
  });

  it('handles size 1 (64-bit largesize) and size 0 (to the end)', async () => {
    const file = Buffer.concat([
      ftypBox('mp42'),
      isoLargeBox('mdat', Buffer.alloc(100)),
      isoBox('free', Buffer.alloc(8)),
      isoBoxToEnd('mdat', Buffer.alloc(50)),
    ]);
    const layout = await readMp4Layout(bufferContent(file));
    assert.deepEqual(
      layout.boxes.map(({ type, size }) => [type, size]),
      [
        ['ftyp', 20],
        ['mdat', 116],
        ['free', 16],
        ['mdat', 58],
      ],
    );
    assert.equal(layout.complete, true);
  });

  it('takes a file cut short or corrupt after ftyp, and says the layout is incomplete', async () => {
    const whole = Buffer.concat([ftypBox('isom'), moovBox(100), isoBox('mdat', Buffer.alloc(1000))]);
    const cut = whole.subarray(0, whole.length - 500);
    assert.equal((await readMp4Layout(bufferContent(cut))).complete, false);
    assert.equal((await outcome('video', bufferContent(cut))).outcome, 'ok:mp4');
    // A largesize past Number.MAX_SAFE_INTEGER.
    const huge = Buffer.concat([ftypBox('isom'), Buffer.from('000000016d646174ffffffffffffffff', 'hex')]);
    assert.equal((await outcome('video', bufferContent(huge))).outcome, 'ok:mp4');
  });

  it('stops after 1024 top-level boxes', async () => {
    const empties = Array.from({ length: 3000 }, () => isoBox('free', Buffer.alloc(0)));
    const file = Buffer.concat([ftypBox('isom'), ...empties]);
    const layout = await readMp4Layout(bufferContent(file));
    assert.equal(layout.boxes.length, 1024);
    assert.equal(layout.complete, false);
  });
});

describe('reading only what the rules need', () => {
  it('reads a PNG, GIF or MP4 header, never the whole file', async () => {
    const big = Buffer.concat([readFileSync(mediaFixture('image.png')), Buffer.alloc(5 * 1024 * 1024)]);
    const content = countingContent(big);
    assert.equal((await outcome('image', content)).outcome, 'ok:png');
    assert.ok(content.bytesRead <= 4096);
  });

  it('reads nothing for a type or size that is wrong', async () => {
    const content = countingContent(Buffer.alloc(100 * 1024));
    assert.equal((await outcome('thumb', content)).outcome, 'too-large');
    assert.equal(content.reads, 0);
  });
});
