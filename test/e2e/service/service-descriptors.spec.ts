import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type MediaSource, type UploadOptions, WeixinNetworkError } from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import type { FakeExchange } from '../../../lib/testing/fake-exchange';
import type { FakeFault } from '../../../lib/testing/fake-fault.interface';
import { iccSegments, withJpegSegments } from '../../support/media-builders';
import {
  leakedDescriptors,
  openDescriptors,
  settledDescriptors,
  spooledFiles,
} from '../../support/open-descriptors';
import { mediaFixture } from '../../support/paths';
import { createMediaTestingModule, type MediaTestContext } from '../../support/testing-module';

const UPLOAD = '/cgi-bin/media/upload';
const DOWNLOAD = '/cgi-bin/media/get';
/** Room for an 8 MB upload on a busy machine; the slow faults answer far later. */
const TIMEOUT_MS = 1_000;
/** 8 MB: far more than the socket buffers take, so a try that ends early leaves its file stream half read. */
const LARGE_JPEG = withJpegSegments(readFileSync(mediaFixture('image.jpg')), iccSegments(8 * 1024 * 1024));

/** The fake, able to answer a download with headers and a first part of the body, then nothing. */
class StallingFakeWeixinServer extends FakeWeixinServer {
  stallDownloads = false;

  protected override async handle(exchange: FakeExchange): Promise<void> {
    if (this.stallDownloads && exchange.path === DOWNLOAD) {
      exchange.res.writeHead(200, {
        'Content-Type': 'image/jpeg',
        'Content-Length': String(LARGE_JPEG.length),
        'Content-Disposition': 'attachment; filename="stalled.jpg"',
      });
      exchange.res.write(LARGE_JPEG.subarray(0, 256 * 1024));
      return; // and never another byte
    }
    return super.handle(exchange);
  }
}

interface Scenario {
  fake: StallingFakeWeixinServer;
  context: MediaTestContext;
}

/**
 * Runs `body` against a fresh fake and module, closes both, and asserts the process holds exactly the
 * descriptors it held before, and no temp file is left.
 */
async function withoutLeaks(body: (scenario: Scenario) => Promise<void>): Promise<void> {
  const before = await settledDescriptors();
  const fake = (await StallingFakeWeixinServer.start()) as StallingFakeWeixinServer;
  const context = await createMediaTestingModule(fake, {
    mediaCache: false,
    timeoutMs: TIMEOUT_MS,
    retry: { attempts: 3, baseDelayMs: 1 },
  });
  try {
    await body({ fake, context });
  } finally {
    await context.close();
    await fake.close();
  }
  assert.deepEqual(await leakedDescriptors(before), [], 'descriptors left open');
  assert.equal(openDescriptors().length, before.length, 'as many descriptors as before');
  assert.deepEqual(spooledFiles(), [], 'temp dir empty');
}

/** Settles `promise` or fails the test after `ms`: a leak must not become a hung suite. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

describe('service: every descriptor a call opens is closed when it ends, however it ends', () => {
  let dir: string;
  let largePath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'descriptors-'));
    largePath = join(dir, 'large.jpg');
    writeFileSync(largePath, LARGE_JPEG);
    // Warm up: lazily opened process descriptors (the event loop's, the resolver's) exist from here on.
    await withoutLeaks(async ({ context }) => {
      const media = await context.service.uploadImage(LARGE_JPEG);
      await context.service.download(media.mediaId);
    }).catch(() => undefined);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sources: Array<{ kind: string; source: () => MediaSource }> = [
    { kind: 'file path', source: () => largePath },
    { kind: '{ path }', source: () => ({ path: largePath, filename: 'large.jpg' }) },
    { kind: 'Buffer', source: () => LARGE_JPEG },
    { kind: 'stream (spooled)', source: () => Readable.from([LARGE_JPEG]) },
  ];
  const endings: Array<{
    ending: string;
    faults: FakeFault[];
    abortAfterMs?: number;
    outcome: 'ok' | 'rejects';
    check?: (error: unknown) => void;
  }> = [
    { ending: 'success', faults: [], outcome: 'ok' },
    { ending: 'Weixin error (45009)', faults: [{ errcode: 45009 }], outcome: 'rejects' },
    {
      ending: 'timeout on every try',
      faults: [{ delayMs: 5_000, times: 3 }],
      outcome: 'rejects',
      check: (error) => assert.ok(error instanceof WeixinNetworkError && error.timedOut, String(error)),
    },
    { ending: 'reset on every try', faults: [{ reset: true, times: 3 }], outcome: 'rejects' },
    {
      ending: 'retry (timeout, -1, then success)',
      faults: [{ delayMs: 5_000 }, { errcode: -1 }],
      outcome: 'ok',
    },
    {
      ending: 'signal abort mid-upload',
      faults: [{ delayMs: 5_000 }],
      abortAfterMs: 100,
      outcome: 'rejects',
    },
  ];

  for (const { kind, source } of sources) {
    for (const { ending, faults, abortAfterMs, outcome, check } of endings) {
      it(`upload from a ${kind}: ${ending}`, async () => {
        await withoutLeaks(async ({ fake, context }) => {
          for (const fault of faults) fake.injectFault({ path: UPLOAD, ...fault });
          const options: UploadOptions = {};
          if (abortAfterMs !== undefined) {
            const controller = new AbortController();
            setTimeout(() => controller.abort(), abortAfterMs);
            options.signal = controller.signal;
          }
          const call = within(10_000, context.service.uploadImage(source(), options));
          if (outcome === 'ok') {
            assert.ok((await call).mediaId);
          } else {
            await assert.rejects(call, (error) => {
              check?.(error);
              return true;
            });
          }
        });
      });
    }
  }

  it('download: whole, then a body that stalls (timeout), then a caller abort mid-body', async () => {
    await withoutLeaks(async ({ fake, context }) => {
      const { mediaId } = await context.service.uploadImage(LARGE_JPEG);
      const media = await context.service.download(mediaId);
      assert.equal(media.kind === 'file' && media.data.length, LARGE_JPEG.length);

      fake.stallDownloads = true;
      await assert.rejects(within(10_000, context.service.download(mediaId)), (error) => {
        assert.ok(error instanceof WeixinNetworkError && error.timedOut, String(error));
        return true;
      });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(within(10_000, context.service.download(mediaId, controller.signal)), {
        name: 'AbortError',
      });
    });
  });

  it('downloadStream: the caller aborts mid-body', async () => {
    await withoutLeaks(async ({ context }) => {
      const { mediaId } = await context.service.uploadImage(LARGE_JPEG);
      const controller = new AbortController();
      const media = await context.service.downloadStream(mediaId, controller.signal);
      assert.equal(media.kind, 'file');
      const stream = (media as { stream: Readable }).stream;
      const ended = within(
        10_000,
        new Promise<unknown>((resolve) => {
          stream.once('error', resolve);
          stream.once('close', () => resolve('closed'));
        }),
      );
      await new Promise((resolve) => stream.once('readable', resolve));
      controller.abort();
      await ended;
      assert.ok(stream.destroyed);
    });
  });

  it('downloadStream: the caller stops reading and walks away', async () => {
    await withoutLeaks(async ({ context }) => {
      const { mediaId } = await context.service.uploadImage(LARGE_JPEG);
      const media = await context.service.downloadStream(mediaId);
      const stream = (media as { stream: Readable }).stream;
      stream.read(); // one chunk, then never again, and no listener at all
      await within(
        10_000,
        new Promise((resolve) => {
          const poll = setInterval(() => {
            if (stream.destroyed) resolve(clearInterval(poll));
          }, 20);
        }),
      );
    });
  });
});
