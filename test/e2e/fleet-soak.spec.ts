import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisMediaCache, RedisTokenStore } from '../../lib';
import { FakeWeixinServer } from '../../lib/testing';
import type { FakeExchange } from '../../lib/testing/fake-exchange';
import type { FakeFault } from '../../lib/testing/fake-fault.interface';
import { Fleet, fleetTargets, type UploadOutcome, type WorkerReport } from '../support/fleet';
import { spooledFiles } from '../support/open-descriptors';
import { RedisServer } from '../support/redis-server';
import { createMediaTestingModule } from '../support/testing-module';

const PROCESSES = 4;
const UPLOADS_PER_PROCESS = 250;
const TOTAL_UPLOADS = PROCESSES * UPLOADS_PER_PROCESS;
const UPLOAD = '/cgi-bin/media/upload';
/** One upload request in five meets a fault: 20 % of the 1,000 uploads. */
const FAULT_EVERY = 5;
const MAX_FAULTS = TOTAL_UPLOADS / FAULT_EVERY;
const TIMEOUT_MS = 2_000;
const FAULTS: Array<{ kind: string; fault: FakeFault }> = [
  { kind: 'system busy (-1)', fault: { errcode: -1, errmsg: 'system error' } },
  { kind: 'HTTP 502', fault: { status: 502 } },
  { kind: 'connection reset', fault: { reset: true } },
  {
    kind: 'token expired (40001)',
    fault: { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' },
  },
  { kind: 'slower than timeoutMs', fault: { delayMs: TIMEOUT_MS + 500 } },
];
/** Every 25th upload is 8 MB, from a file path or a stream: a try that ends early leaves it half read. */
const LARGE_EVERY = 25;
/** Every 20th call is aborted by its caller (its `signal`), 0 to 30 ms after it starts. */
const ABORT_EVERY = 20;
/** Every token dies for real (42001 from then on) when the fake has seen this many upload requests. */
const EXPIRE_ALL_AT = [300, 700];

/** The fake, playing a fault on every fifth upload request and expiring every token twice mid-run. */
class SoakFakeWeixinServer extends FakeWeixinServer {
  armed = false;
  uploadRequests = 0;
  readonly injected = new Map<string, number>();
  injectedTotal = 0;
  expireAllCalls = 0;

  /** The forced expiries: 40001 faults played plus expireAllTokens() calls. */
  get forcedExpiries(): number {
    return (this.injected.get(FAULTS[3].kind) ?? 0) + this.expireAllCalls;
  }

  protected override async handle(exchange: FakeExchange): Promise<void> {
    if (this.armed && exchange.path === UPLOAD) {
      this.uploadRequests++;
      if (EXPIRE_ALL_AT.includes(this.uploadRequests)) {
        this.expireAllTokens();
        this.expireAllCalls++;
      }
      if (this.uploadRequests % FAULT_EVERY === 0 && this.injectedTotal < MAX_FAULTS) {
        const { kind, fault } = FAULTS[this.injectedTotal % FAULTS.length];
        // Queued now, taken by this very request (nothing else is queued).
        this.injectFault({ path: UPLOAD, ...fault, times: 1 });
        this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
        this.injectedTotal++;
      }
    }
    return super.handle(exchange);
  }
}

describe('soak: 1,000 uploads across 4 processes with 20 % injected faults and caller aborts', () => {
  let redis: RedisServer;
  let client: Redis;
  let fake: SoakFakeWeixinServer;
  let fleet: Fleet | undefined;

  before(async () => {
    redis = await RedisServer.start();
    client = redis.createClient();
  });
  after(async () => {
    await fleet?.stop();
    await redis?.stop();
  });
  beforeEach(async () => {
    await client.flushall();
    fake = (await SoakFakeWeixinServer.start()) as SoakFakeWeixinServer;
  });
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
    await fake.close();
  });

  for (const tokenMode of ['stable', 'classic'] as const) {
    it(`${tokenMode}: every call answers once, no descriptor, temp file or secret left, every media_id downloads the bytes sent, no token storm`, async () => {
      fleet = await Fleet.start({
        processes: PROCESSES,
        ...fleetTargets(redis, fake),
        tokenMode,
        timeoutMs: TIMEOUT_MS,
        retry: { attempts: 4, baseDelayMs: 5 },
        audit: true,
      });
      fake.armed = true;
      const started = Date.now();
      const reports = await fleet.run(
        {
          uploads: UPLOADS_PER_PROCESS,
          concurrency: 25,
          label: `soak-${tokenMode}`,
          hangAfterMs: 20_000,
          mixedSources: true,
          largeEvery: LARGE_EVERY,
          abortEvery: ABORT_EVERY,
        },
        45_000,
      );
      const elapsedMs = Date.now() - started;
      fake.armed = false;

      // Every call answered exactly once: a result or a typed error; none hung, none lost.
      assert.equal(reports.length, PROCESSES);
      const results: UploadOutcome[] = [];
      for (const report of reports as WorkerReport[]) {
        assert.ok(report, 'every worker reported');
        assert.deepEqual(
          report.results.map((result) => result.index),
          Array.from({ length: UPLOADS_PER_PROCESS }, (_, i) => i),
          'one answer per call, none missing',
        );
        results.push(...report.results);
      }
      assert.equal(results.length, TOTAL_UPLOADS);
      assert.deepEqual(
        results.filter((result) => result.settles !== 1),
        [],
        'each call settled exactly once',
      );
      assert.deepEqual(
        results.filter((result) => !result.ok && result.hung),
        [],
        'nothing hung',
      );
      const failures = results.filter(
        (result): result is Extract<UploadOutcome, { ok: false }> => !result.ok,
      );
      for (const failure of failures) {
        const expected = failure.aborted
          ? ['AbortError', 'WeixinApiError', 'WeixinNetworkError']
          : ['WeixinApiError', 'WeixinNetworkError'];
        assert.ok(
          expected.includes(failure.errorName),
          `a typed error, not ${failure.errorName}: ${failure.message}`,
        );
      }
      const aborts = failures.filter((failure) => failure.errorName === 'AbortError');
      assert.ok(aborts.length > 0, 'some calls were aborted before they finished');
      const successes = results.filter((result): result is Extract<UploadOutcome, { ok: true }> => result.ok);
      const notAborted = results.filter((result) => !result.aborted).length;
      // Passing faults share 4 tries per call and a token error is retried once: failures stay rare.
      assert.ok(
        successes.filter((result) => !result.aborted).length >= notAborted * 0.95,
        `${successes.length} of ${TOTAL_UPLOADS} succeeded`,
      );

      // Nothing left behind: each worker holds the descriptors it held before its module was built, the
      // temp dir has no spooled file, and no log line or error rendering holds a token or the secret.
      for (const report of reports as WorkerReport[]) {
        const audit = report.audit!;
        assert.deepEqual(audit.leaked, [], `worker ${report.workerIndex} left descriptors open`);
        assert.equal(
          audit.descriptorsAfter,
          audit.descriptorsBefore,
          `worker ${report.workerIndex} descriptors`,
        );
      }
      assert.deepEqual(spooledFiles(), [], 'temp dir empty');
      const tokens = new Set(
        fake.requests
          .map((request) => request.query.access_token)
          .filter((token): token is string => !!token),
      );
      assert.ok(tokens.size >= 1);
      const texts = (reports as WorkerReport[]).flatMap((report) => [
        ...report.audit!.logLines,
        ...report.audit!.errorTexts,
      ]);
      const logLines = (reports as WorkerReport[]).reduce(
        (sum, report) => sum + report.audit!.logLines.length,
        0,
      );
      for (const text of texts) {
        assert.ok(!text.includes(fake.appSecret), `the app secret leaked: ${text.slice(0, 300)}`);
        for (const token of tokens) assert.ok(!text.includes(token), `a token leaked: ${text.slice(0, 300)}`);
      }
      assert.equal(new Set(successes.map((result) => result.mediaId)).size, successes.length);
      assert.ok(
        successes.every((result) => !result.reused),
        'distinct content is never "reused"',
      );

      // The faults really happened, all four kinds, and the tokens really expired.
      assert.equal(fake.injectedTotal, MAX_FAULTS);
      for (const { kind } of FAULTS) assert.equal(fake.injected.get(kind), MAX_FAULTS / FAULTS.length, kind);
      assert.equal(fake.expireAllCalls, EXPIRE_ALL_AT.length);

      // No token storm: at most one token request per forced expiry, plus the first one.
      const tokenRequests = fake.tokenRequestCount;
      assert.ok(tokenRequests >= 1);
      assert.ok(
        tokenRequests <= fake.forcedExpiries + 1,
        `${tokenRequests} token requests for ${fake.forcedExpiries} forced expiries`,
      );

      // Every media_id downloads back to the bytes that were sent (through the same shared token).
      const connection = redis.createClient();
      const reader = await createMediaTestingModule(fake, {
        tokenMode,
        tokenStore: new RedisTokenStore(connection),
        mediaCache: new RedisMediaCache(connection),
      });
      try {
        let next = 0;
        const mismatched: string[] = [];
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next < successes.length) {
              const { mediaId, sha256 } = successes[next++];
              const media = await reader.service.download(mediaId);
              assert.equal(media.kind, 'file');
              if (media.kind === 'file' && createHash('sha256').update(media.data).digest('hex') !== sha256) {
                mismatched.push(mediaId);
              }
            }
          }),
        );
        assert.deepEqual(mismatched, []);
      } finally {
        await reader.close();
      }
      assert.equal(fake.tokenRequestCount, tokenRequests, 'the downloads used the fleet’s token');
      console.log(
        `# soak ${tokenMode}: ${successes.length}/${TOTAL_UPLOADS} ok, ${failures.length} typed errors ` +
          `(${[...new Set(failures.map((f) => `${f.errorName}:${f.errcode ?? f.code}`))].join(', ') || 'none'}), ` +
          `${fake.injectedTotal} faults, ${aborts.length} caller aborts, ${tokenRequests} token requests ` +
          `for ${fake.forcedExpiries} forced expiries, descriptors before = after in all ${PROCESSES} workers, ` +
          `0 temp files, ${texts.length} log lines and error renderings (${logLines} log lines) free of ` +
          `${tokens.size} tokens and the secret, ${elapsedMs} ms`,
      );
    });
  }
});
