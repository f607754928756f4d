import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { MediaValidationError } from '../../../lib/errors/media-validation.error';
import type { MediaType } from '../../../lib/interfaces/media.interface';
import { openFileContent } from '../../../lib/media-rules/file-content';
import { detectFormat, inspectMediaContent, weixinFilename } from '../../../lib/media-rules/inspect-media';
import { bufferContent, type MediaContent } from '../../../lib/media-rules/media-content';
import { MEDIA_TYPES } from '../../../lib/media-rules/media-limits';
import { mediaOutcome as outcome } from '../../support/media-outcome';
import { mediaFixture } from '../../support/paths';
import { amrFile, ftypBox, jpegSegment, mp3Frames, withJpegSegments } from '../../support/media-builders';

interface Manifest {
  files: Record<string, Partial<Record<MediaType, string>> & { durationMs?: number }>;
}

const manifest: Manifest = JSON.parse(readFileSync(mediaFixture('MANIFEST.json'), 'utf8'));

async function rejection(type: unknown, content: MediaContent): Promise<MediaValidationError> {
  const error = await inspectMediaContent(type, content).then(
    () => assert.fail('expected a MediaValidationError'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof MediaValidationError);
  return error;
}

describe('media rules: every fixture in test/fixtures/media/MANIFEST.json', () => {
  for (const [name, expected] of Object.entries(manifest.files)) {
    for (const type of MEDIA_TYPES) {
      const listed = expected[type];
      if (!listed) continue;
      it(`${name} as ${type} → ${listed}`, async () => {
        const bytes = readFileSync(mediaFixture(name));
        const { outcome: got, result, error } = await outcome(type, bufferContent(bytes));
        assert.equal(got, listed, error?.message);
        if (result) {
          assert.equal(result.type, type);
          assert.equal(result.bytes, bytes.length);
        }
        if (error) assert.equal(error.type, type);
        if (type === 'voice' && expected.durationMs !== undefined) {
          const measured = result?.durationMs ?? error?.actual;
          assert.ok(measured !== undefined, 'voice answers its playing time');
          const truth = expected.durationMs;
          assert.ok(Math.abs(measured - truth) <= 100, `measured ${measured} ms, playing time ${truth} ms`);
        }
      });
    }
  }

  it('reads the same from a file on disk as from a buffer', async () => {
    for (const [name, expected] of Object.entries(manifest.files)) {
      for (const type of MEDIA_TYPES) {
        if (!expected[type]) continue;
        const file = await openFileContent(mediaFixture(name));
        try {
          const fromFile = await outcome(type, file);
          const fromBuffer = await outcome(type, bufferContent(readFileSync(mediaFixture(name))));
          assert.equal(fromFile.outcome, fromBuffer.outcome, `${name} as ${type}`);
          assert.equal(fromFile.result?.durationMs, fromBuffer.result?.durationMs);
        } finally {
          await file.close();
        }
      }
    }
  });
});

describe('media rules: the messages a person reads', () => {
  it('invalid-type names the four types and carries errcode 40004', async () => {
    const error = await rejection('audio', bufferContent(Buffer.from('x')));
    assert.equal(error.reason, 'invalid-type');
    assert.equal(error.errcode, 40004);
    assert.equal(error.message, '"audio" is not a Weixin media type; use image, voice, video or thumb');
    const missing = await rejection(undefined, bufferContent(Buffer.from('x')));
    assert.equal(missing.message, 'the media type is missing; use image, voice, video or thumb');
    assert.equal((await rejection(42, bufferContent(Buffer.from('x')))).reason, 'invalid-type');
  });

  it('checks the type before the content, and emptiness before the format', async () => {
    assert.equal((await rejection('file', bufferContent(Buffer.alloc(0)))).reason, 'invalid-type');
    const empty = await rejection('image', bufferContent(Buffer.alloc(0)));
    assert.equal(empty.reason, 'empty');
    assert.equal(empty.errcode, 40006);
    assert.equal(empty.message, "image is empty (0 bytes); send the file's content");
  });

  it('too-large gives limit and actual in bytes and reads no content', async () => {
    const content: MediaContent = {
      size: 71_885,
      read: async () => assert.fail('a file too large is refused from its size alone'),
    };
    const error = await rejection('thumb', content);
    assert.equal(error.reason, 'too-large');
    assert.equal(error.errcode, 40006);
    assert.equal(error.limit, 64 * 1024);
    assert.equal(error.actual, 71_885);
    assert.equal(error.message, 'thumb is 70.2 KB; Weixin accepts at most 64 KB');
  });

  it('too-large shows exact bytes where rounding would make both sizes read the same', async () => {
    const error = await rejection('voice', { size: 2 * 1024 * 1024 + 1, read: async () => Buffer.alloc(0) });
    assert.equal(
      error.message,
      'voice is 2 MB (2,097,153 bytes); Weixin accepts at most 2 MB (2,097,152 bytes)',
    );
  });

  it("the limits are exactly Weixin's: 10 MB, 2 MB, 10 MB, 64 KB", async () => {
    const limits: Record<MediaType, number> = {
      image: 10_485_760,
      voice: 2_097_152,
      video: 10_485_760,
      thumb: 65_536,
    };
    for (const type of MEDIA_TYPES) {
      const atLimit = await outcome(type, { size: limits[type], read: async () => Buffer.from('not media') });
      assert.equal(atLimit.outcome, 'unsupported-format', `${type} at its limit passes the size rule`);
      const over = await rejection(type, { size: limits[type] + 1, read: async () => Buffer.alloc(0) });
      assert.equal(over.limit, limits[type]);
    }
  });

  it('unsupported-format names what the file is and what the type accepts', async () => {
    const wav = await rejection('voice', bufferContent(readFileSync(mediaFixture('voice-speech.wav'))));
    assert.equal(wav.message, 'this is WAV audio; voice accepts AMR or MP3');
    assert.equal(wav.errcode, 40005);
    const png = await rejection('thumb', bufferContent(readFileSync(mediaFixture('image.png'))));
    assert.equal(png.message, 'this is a PNG image; thumb accepts JPEG only');
    const exe = await rejection('image', bufferContent(readFileSync(mediaFixture('spoof-exe.png'))));
    assert.equal(exe.message, 'this is a Windows executable (EXE/DLL); image accepts PNG, JPEG or GIF');
    const mp4 = await rejection('video', bufferContent(readFileSync(mediaFixture('voice-speech.mp3'))));
    assert.equal(mp4.message, 'this is MP3 audio; video accepts MP4 only');
    const random = await rejection('image', bufferContent(readFileSync(mediaFixture('spoof-random.jpg'))));
    assert.equal(
      random.message,
      'this is not a media format Weixin knows (it starts with bytes fa 30 1d 4b f6 92 79 e4); ' +
        'image accepts PNG, JPEG or GIF',
    );
  });

  it('too-long says "61.1 s" and carries limit 60000 and actual in ms', async () => {
    const error = await rejection('voice', bufferContent(readFileSync(mediaFixture('voice-61s.mp3'))));
    assert.equal(error.reason, 'too-long');
    assert.equal(error.errcode, 40005);
    assert.equal(error.limit, 60000);
    assert.equal(error.actual, 61092);
    assert.equal(error.message, 'voice is 61.1 s; Weixin accepts at most 60 s');
  });

  it('too-long shows more digits when one decimal would read as 60.0 s', async () => {
    const error = await rejection('voice', bufferContent(amrFile(Array.from({ length: 3001 }, () => 0))));
    assert.equal(error.actual, 60020);
    assert.equal(error.message, 'voice is 60.02 s; Weixin accepts at most 60 s');
  });

  it('unreadable says which part of the file is damaged', async () => {
    const error = await rejection('voice', bufferContent(Buffer.from('#!AMR\n', 'latin1')));
    assert.equal(error.reason, 'unreadable');
    assert.equal(error.errcode, 40005);
    assert.equal(
      error.message,
      'this AMR file cannot be read: it has no audio frames after its #!AMR header',
    );
  });

  it('sets durationMs for voice only', async () => {
    const voice = await inspectMediaContent('voice', bufferContent(mp3Frames(10)));
    assert.deepEqual(voice, { type: 'voice', format: 'mp3', bytes: mp3Frames(10).length, durationMs: 261 });
    const image = await inspectMediaContent('image', bufferContent(readFileSync(mediaFixture('image.gif'))));
    assert.deepEqual(image, { type: 'image', format: 'gif', bytes: 363 });
  });

  it('serialises to JSON with reason, errcode, limit and actual', async () => {
    const error = await rejection('thumb', { size: 70000, read: async () => Buffer.alloc(0) });
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      name: 'MediaValidationError',
      code: 'WEIXIN_MEDIA_ERR_VALIDATION',
      reason: 'too-large',
      errcode: 40006,
      type: 'thumb',
      limit: 65536,
      actual: 70000,
      message: 'thumb is 68.4 KB; Weixin accepts at most 64 KB',
    });
  });
});

/** An EBML header up to its DocType element, as Matroska and WebM files start. */
const EBML_HEADER = '1a45dfa3a34286810142f7810142f2810442f38108';

describe('detectFormat', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['image.png', 'a PNG image', 'png'],
    ['image.jpg', 'a JPEG image', 'jpeg'],
    ['image.gif', 'a GIF image', 'gif'],
    ['voice-speech.amr', 'AMR audio', 'amr'],
    ['voice-speech.mp3', 'MP3 audio', 'mp3'],
    ['video-clip.mp4', 'an MP4 video', 'mp4'],
    ['voice-speech.wav', 'WAV audio', undefined],
    ['spoof-exe.png', 'a Windows executable (EXE/DLL)', undefined],
    ['spoof-text.mp3', 'text', undefined],
  ];
  for (const [name, label, format] of cases) {
    it(`names ${name} as ${label}`, () => {
      const detected = detectFormat(readFileSync(mediaFixture(name)).subarray(0, 4096));
      assert.equal(detected.label, label);
      assert.equal(detected.format, format);
    });
  }

  it('names formats Weixin refuses from their signatures', () => {
    const named: Array<[string | Buffer, string]> = [
      ['RIFF\x10\x00\x00\x00WEBPVP8 ', 'a WebP image'],
      ['OggS\x00\x02' + '\x00'.repeat(22) + 'OpusHead', 'Ogg Opus audio'],
      ['II*\x00\x08\x00\x00\x00', 'a TIFF image'],
      [Buffer.from('fff15080021ffc', 'hex'), 'AAC (ADTS) audio'],
      [Buffer.from(`${EBML_HEADER}4282847765626d`, 'hex'), 'a WebM video'],
      [Buffer.from(`${EBML_HEADER}4282886d6174726f736b61`, 'hex'), 'a Matroska (MKV) video'],
      [Buffer.from('0000001466747970717420200000000071742020', 'hex'), 'a QuickTime movie (MOV)'],
      [ftypBox('3gp6', ['3gp6', 'isom', 'iso2', 'avc1']), 'a 3GP video'],
      [ftypBox('M4A\0', ['M4A ', 'isom', 'iso2']), 'M4A (AAC) audio'],
      ['%PDF-1.7\n', 'a PDF document'],
      ['PK\x03\x04\x14\x00', 'a ZIP archive (or a document packed as one, like DOCX or APK)'],
      ['\x7fELF\x02\x01', 'an ELF executable'],
      ['<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', 'an SVG image'],
      ['#!AMR-WB\n', 'AMR-WB (wideband) audio'],
      ['fLaC\x00\x00\x00\x22', 'FLAC audio'],
      ['你好，这不是音频\n', 'text'],
    ];
    for (const [head, label] of named) {
      const encoding = typeof head === 'string' && /[^\x00-\xff]/.test(head) ? 'utf8' : 'latin1';
      const bytes = typeof head === 'string' ? Buffer.from(head, encoding) : head;
      assert.equal(detectFormat(bytes).label, label, JSON.stringify(head));
      assert.equal(detectFormat(bytes).format, undefined);
    }
  });

  it('names MP3 after junk when a run of frames follows it in the head', () => {
    const junk = Buffer.from('not a tag, not audio: a download leftover\n'.repeat(20), 'latin1');
    assert.equal(detectFormat(Buffer.concat([junk, mp3Frames(8)]).subarray(0, 4096)).format, 'mp3');
    assert.equal(detectFormat(Buffer.concat([junk, mp3Frames(3)])).label, 'text');
  });

  it('answers no label for bytes it cannot name', () => {
    assert.deepEqual(detectFormat(Buffer.from([0x00, 0x01, 0x02, 0x03])), {});
    assert.deepEqual(detectFormat(Buffer.alloc(0)), {});
  });
});

describe('weixinFilename', () => {
  it('makes the extension match the content', () => {
    assert.equal(weixinFilename('png', 'photo.jpg'), 'photo.png');
    assert.equal(weixinFilename('jpeg', 'photo.jpg'), 'photo.jpg');
    assert.equal(weixinFilename('jpeg', 'photo.JPEG'), 'photo.jpeg');
    assert.equal(weixinFilename('jpeg', 'IMG_0001.PNG'), 'IMG_0001.jpg');
    assert.equal(weixinFilename('mp3', 'song.wav'), 'song.mp3');
    assert.equal(weixinFilename('mp4', 'clip.mov'), 'clip.mp4');
    assert.equal(weixinFilename('amr', 'memo.m4a'), 'memo.amr');
  });

  it('appends one to temp names and names without an extension', () => {
    assert.equal(weixinFilename('jpeg', 'phpA1B2'), 'phpA1B2.jpg');
    assert.equal(weixinFilename('png', 'blob'), 'blob.png');
    assert.equal(weixinFilename('gif', 'photo.2024.03.01'), 'photo.2024.03.01.gif');
  });

  it('defaults the base to "media"', () => {
    assert.equal(weixinFilename('png'), 'media.png');
    assert.equal(weixinFilename('png', ''), 'media.png');
    assert.equal(weixinFilename('amr', '.amr'), 'media.amr');
    assert.equal(weixinFilename('mp4', '   '), 'media.mp4');
  });

  it('keeps only a safe base name', () => {
    assert.equal(weixinFilename('jpeg', '../../etc/passwd'), 'passwd.jpg');
    assert.equal(weixinFilename('jpeg', 'C:\\Users\\me\\Desktop\\cat.jpg'), 'cat.jpg');
    assert.equal(weixinFilename('png', '..'), 'media.png');
    assert.equal(weixinFilename('png', 'a\r\nX-Evil: 1\r\n.png'), 'aX-Evil: 1.png');
    assert.equal(weixinFilename('png', 'a\r\nContent-Type: text/html\r\n.png'), 'html.png');
    assert.equal(weixinFilename('png', 'say "cheese".png'), 'say cheese.png');
    assert.equal(weixinFilename('png', 'evil\u202egnp.exe'), 'evilgnp.png');
    assert.equal(weixinFilename('jpeg', '照片.jpg'), '照片.jpg');
    assert.equal(weixinFilename('jpeg', `${'长'.repeat(150)}.jpg`), `${'长'.repeat(100)}.jpg`);
  });
});

describe('openFileContent', () => {
  it('reads by position and knows the size', async () => {
    const file = await openFileContent(mediaFixture('image.png'));
    try {
      const whole = readFileSync(mediaFixture('image.png'));
      assert.equal(file.size, whole.length);
      assert.deepEqual(await file.read(1, 3), Buffer.from('PNG'));
      assert.deepEqual(await file.read(whole.length - 4, 100), whole.subarray(whole.length - 4));
      assert.equal((await file.read(whole.length + 10, 10)).length, 0);
    } finally {
      await file.close();
    }
  });
});

describe('walking a file through a window', () => {
  it('reads a JPEG of 160 big segments into one window buffer, not a new one per jump', async () => {
    const comments = Array.from({ length: 160 }, (_, index) =>
      jpegSegment(0xfe, Buffer.alloc(65_000, index)),
    );
    const jpeg = withJpegSegments(readFileSync(mediaFixture('thumb.jpg')), comments);
    const path = join(mkdtempSync(join(tmpdir(), 'content-window-')), 'segments.jpg');
    writeFileSync(path, jpeg);
    const file = await openFileContent(path);
    const allocations = mock.method(Buffer, 'allocUnsafe');
    try {
      assert.equal((await outcome('image', file)).outcome, 'ok:jpeg');
      const windows = allocations.mock.calls.filter((call) => (call.arguments[0] as number) >= 16 * 1024);
      assert.equal(windows.length, 1, `${windows.length} window-sized buffers for one walk`);
    } finally {
      allocations.mock.restore();
      await file.close();
    }
  });
});
