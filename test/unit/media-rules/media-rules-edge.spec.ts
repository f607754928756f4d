import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MediaType } from '../../../lib/interfaces/media.interface';
import { inspectMediaContent } from '../../../lib/media-rules/inspect-media';
import { bufferContent, type MediaContent } from '../../../lib/media-rules/media-content';
import { MEDIA_TYPES } from '../../../lib/media-rules/media-limits';
import { measureMp3 } from '../../../lib/media-rules/mp3';
import { readMp4Layout } from '../../../lib/media-rules/mp4';
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
  pngChunk,
  randomBytes,
  seededRandom,
  solidPng,
  withJpegSegments,
  xingFrame,
  type Mp3FrameSpec,
  type MpegVersion,
} from '../../support/media-builders';
import { mediaOutcome as outcome } from '../../support/media-outcome';
import { mediaFixture, REPO_ROOT } from '../../support/paths';

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
    // A largesize past Number.MAX_SAFE_INTEGER: the walk stops there, with no moov reached.
    const huge = Buffer.concat([ftypBox('isom'), Buffer.from('000000016d646174ffffffffffffffff', 'hex')]);
    assert.equal((await readMp4Layout(bufferContent(huge))).complete, false);
  });

  it('stops after 1024 top-level boxes', async () => {
    const empties = Array.from({ length: 3000 }, () => isoBox('free', Buffer.alloc(0)));
    const file = Buffer.concat([ftypBox('isom'), ...empties]);
    const layout = await readMp4Layout(bufferContent(file));
    assert.equal(layout.boxes.length, 1024);
    assert.equal(layout.complete, false);
  });
});

describe('MP4 tracks: a video is an MP4 with a video track', () => {
  /** An MP4 of `bytes` with moov at the end, after an mdat that fills the rest. */
  function moovAtEnd(bytes: number, moov: Buffer, ftyp = ftypBox('isom', ['isom', 'iso2', 'mp41'])): Buffer {
    const mdat = isoBox('mdat', Buffer.alloc(bytes - ftyp.length - 8 - moov.length));
    return Buffer.concat([ftyp, mdat, moov]);
  }

  it('refuses a 3GP whose compatible brands list isom, by its major brand', async () => {
    const file = Buffer.concat([ftypBox('3gp6', ['3gp6', 'isom', 'iso2', 'avc1']), moovBox(1000)]);
    const { outcome: got, error } = await outcome('video', bufferContent(file));
    assert.equal(got, 'unsupported-format');
    assert.equal(error?.message, 'this is a 3GP video; video accepts MP4 only');
    // A brand of another family among the compatible ones says more than isom does.
    const unknownMajor = Buffer.concat([ftypBox('abcd', ['isom', '3gp4']), moovBox(1000)]);
    assert.equal((await outcome('video', bufferContent(unknownMajor))).error?.message, error?.message);
    const itunesVideo = Buffer.concat([ftypBox('abcd', ['M4V ', 'M4A ', 'mp42', 'isom']), moovBox(1000)]);
    assert.equal((await outcome('video', bufferContent(itunesVideo))).outcome, 'ok:mp4');
  });

  it('refuses an audio-only M4A whose major brand is written "M4A\\0"', async () => {
    const file = Buffer.concat([ftypBox('M4A\0', ['M4A ', 'isom', 'iso2']), moovBox(1000, ['soun'])]);
    const { error } = await outcome('video', bufferContent(file));
    assert.equal(error?.reason, 'unsupported-format');
    assert.equal(error?.message, 'this is M4A (AAC) audio; video accepts MP4 only');
  });

  it('refuses sound alone under an MP4 brand, reading moov at the end of 10 MB by headers only', async () => {
    const file = moovAtEnd(10 * 1024 * 1024, moovBox(60_000, ['soun', 'text'], 500_000));
    const content = countingContent(file);
    const { error } = await outcome('video', content);
    assert.equal(error?.reason, 'unsupported-format');
    assert.equal(
      error?.message,
      'this is audio in an MP4 file (it has no video track); video accepts MP4 only',
    );
    assert.ok(content.bytesRead < 6 * 4096, `${content.bytesRead} bytes read`);
    const subtitles = Buffer.concat([ftypBox('mp42'), moovBox(1000, ['text'])]);
    assert.equal(
      (await outcome('video', bufferContent(subtitles))).error?.message,
      'this is an MP4 file with no video track (its tracks: text); video accepts MP4 only',
    );
  });

  it('finds the video track behind a sound track of 1 MB of sample tables, jumping over them', async () => {
    const file = moovAtEnd(8 * 1024 * 1024, moovBox(60_000, ['soun', 'vide'], 1024 * 1024));
    const content = countingContent(file);
    assert.equal((await outcome('video', content)).outcome, 'ok:mp4');
    assert.ok(content.bytesRead < 6 * 4096, `${content.bytesRead} bytes read`);
    const layout = await readMp4Layout(bufferContent(file));
    assert.deepEqual(layout.tracks, { handlers: ['soun', 'vide'] });
  });

  it('refuses as unreadable an MP4 whose track list is missing, cut short or damaged', async () => {
    const cases: Array<[Buffer, string]> = [
      [
        Buffer.concat([ftypBox('isom'), isoBox('mdat', Buffer.alloc(100))]),
        'it has no moov box (the list of its tracks)',
      ],
      [
        Buffer.concat([ftypBox('isom'), isoBox('mdat', Buffer.alloc(100))]).subarray(0, 60),
        'it is cut short or damaged at byte 60, before its moov box (the list of its tracks)',
      ],
      [
        Buffer.concat([ftypBox('isom'), moovBox(1000, ['soun', 'vide'])]).subarray(0, 400),
        'it ends at byte 400, inside its track list (moov), before any video track',
      ],
      [
        Buffer.concat([
          ftypBox('isom'),
          isoBox('moov', isoBox('trak', Buffer.from('000000ff6d646961', 'hex'))),
        ]),
        'the mdia box at byte 36 declares 255 bytes, which do not fit in the trak box around it, ' +
          'before any video track',
      ],
      [
        Buffer.concat([
          ftypBox('isom'),
          isoBox('moov', Buffer.concat(Array(1100).fill(isoBox('free', Buffer.alloc(0))))),
        ]),
        'its track list (moov) holds more than 1024 boxes, before any video track',
      ],
    ];
    for (const [file, reason] of cases) {
      const { outcome: got, error } = await outcome('video', bufferContent(file));
      assert.equal(got, 'unreadable', reason);
      assert.equal(error?.message, `this MP4 file cannot be read: ${reason}`);
    }
  });
});

describe('PNG chunk walk', () => {
  const png = solidPng(16, 16);
  const withChunk = (chunk: Buffer) => Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);

  it('refuses a chunk whose length is over 2^31 - 1 before the image data', async () => {
    const hostile = Buffer.concat([
      Buffer.from('80000000', 'hex'),
      Buffer.from('zTXt', 'latin1'),
      Buffer.alloc(40),
    ]);
    const { outcome: got, error } = await outcome('image', bufferContent(withChunk(hostile)));
    assert.equal(got, 'unreadable');
    assert.equal(
      error?.message,
      'this PNG file cannot be read: its zTXt chunk at byte 33 declares 2147483648 bytes, over the PNG ' +
        'limit of 2147483647 (2^31 - 1), so no decoder reaches its image data',
    );
  });

  it('jumps over a 2 MB ICC profile before IDAT, reading chunk headers only', async () => {
    const file = withChunk(pngChunk('iCCP', Buffer.alloc(2 * 1024 * 1024, 0x2a)));
    const content = countingContent(file);
    assert.equal((await outcome('image', content)).outcome, 'ok:png');
    assert.ok(content.bytesRead <= 2 * 4096, `${content.bytesRead} bytes read`);
  });

  it('refuses a PNG whose chunks end, or stop being chunks, before IDAT', async () => {
    const cases: Array<[Buffer, string]> = [
      [
        Buffer.concat([png.subarray(0, 33), png.subarray(png.length - 12)]),
        'it ends (IEND) at byte 33, before any image data (IDAT)',
      ],
      [
        withChunk(pngChunk('tEXt', Buffer.alloc(100))).subarray(0, 100),
        'it ends at byte 100, before its image data (IDAT)',
      ],
      [
        withChunk(Buffer.from('0000000a\x00\x01\x02\x03', 'latin1')),
        'byte 33 should start a chunk but its type is not four letters',
      ],
    ];
    for (const [file, reason] of cases) {
      const { error } = await outcome('image', bufferContent(file));
      assert.equal(error?.message, `this PNG file cannot be read: ${reason}`);
    }
  });
});

describe('JPEG-LS', () => {
  const jpegLs = readFileSync(join(EDGE_DIR, 'ffmpeg-jpeg-ls.jpg'));

  it('names JPEG-LS (SOF55) as another format, not a damaged JPEG', async () => {
    for (const type of ['image', 'thumb'] as const) {
      const { outcome: got, error } = await outcome(type, bufferContent(jpegLs));
      assert.equal(got, 'unsupported-format');
      assert.match(error?.message ?? '', /^this is a JPEG-LS image; /);
    }
  });

  it('finds SOF55 behind 80 KB of EXIF and ICC segments', async () => {
    const file = withJpegSegments(jpegLs, [exifSegment(60_000), ...iccSegments(20_000)]);
    const { error } = await outcome('image', bufferContent(file));
    assert.equal(error?.message, 'this is a JPEG-LS image; image accepts PNG, JPEG or GIF');
  });
});

describe('MP3 after junk', () => {
  const spec: Mp3FrameSpec = { version: 1, sampleRate: 44100, bitrateKbps: 128 };
  const frames = mp3Frames(200, (i) => ({ ...spec, padding: i % 3 === 0 }));
  /** Random junk with a frame-header look-alike every 37 bytes, none followed by a second frame. */
  function junk(length: number): Buffer {
    const bytes = randomBytes(length, seededRandom(length));
    for (let i = 5; i + 4 < length; i += 37) bytes.set([0xff, 0xfb, 0x90, 0x44], i);
    return bytes;
  }

  it('takes junk before the first frame, as decoders skip it, and counts the frames exactly', async () => {
    for (const bytes of [500, 3000, 40_000, 64 * 1024 - 1]) {
      const file = Buffer.concat([junk(bytes), frames]);
      const { outcome: got, result, error } = await outcome('voice', bufferContent(file));
      assert.equal(got, 'ok:mp3', `${bytes} bytes of junk: ${error?.message}`);
      assert.equal(result?.durationMs, Math.round(200 * mp3FrameMs(spec)));
    }
  });

  it('looks no further than 64 KiB, and refuses what is not MPEG audio', async () => {
    const tooFar = Buffer.concat([junk(64 * 1024 + 1), frames]);
    assert.equal((await outcome('voice', bufferContent(tooFar))).outcome, 'unsupported-format');
    const garbage = [
      junk(100_000),
      randomBytes(9000, seededRandom(7)),
      Buffer.concat([junk(3000), mp3Frames(3, spec)]),
    ];
    for (const file of garbage) {
      const { error } = await outcome('voice', bufferContent(file));
      assert.equal(error?.reason, 'unsupported-format');
      assert.match(error.message, /^this is not a media format Weixin knows/);
    }
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
