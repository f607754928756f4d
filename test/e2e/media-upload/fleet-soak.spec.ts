import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisMediaCache, RedisTokenStore } from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import type { FakeExchange } from '../../../lib/testing/fake-exchange';
import type { FakeFault } from '../../../lib/testing/fake-fault.interface';
import {
  Fleet,
  fleetTargets,
  HELD_UPLOAD_PREFIX,
  type UploadOutcome,
  type WorkerReport,
} from '../../support/fleet';
import { spooledFiles } from '../../support/open-descriptors';
import { RedisServer } from '../../support/redis-server';
import { createMediaTestingModule } from '../../support/testing-module';

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
/**
 * Every 4th upload goes to a worker's mounted controller (Express in workers 0 and 2, Fastify in 1 and 3) by
 * an HTTP client; the others call the service.
 */
const CONTROLLER_EVERY = 4;
const CONTROLLER_ADAPTERS: Array<'express' | 'fastify'> = ['express', 'fastify'];
const CONTROLLER_UPLOADS = PROCESSES * Math.floor(UPLOADS_PER_PROCESS / CONTROLLER_EVERY);
/** Every 20th call to the service is aborted by its caller (its `signal`), 0 to 30 ms after it starts. */
const ABORT_EVERY = 20;
/**
 * Every 5th upload to the controller is abandoned by its client: mid-body and once the controller called
 * Weixin, in turn.
 */
const CLIENT_ABORT_EVERY = 5;
/** How long the fake holds back its answer to an upload named `held-…` (less than `TIMEOUT_MS`). */
const HOLD_MS = 1_500;
/** The debug line of the controller's exception filter for a request whose client left. */
const CLIENT_LEFT = 'The client left before the answer';
/** Every token dies for real (42001 from then on) when the fake has seen this many upload requests. */
const EXPIRE_ALL_AT = [300, 700];

/**
 * The fake, playing a fault on every fifth upload request and expiring every token twice mid-run; it holds back
 * its answer to uploads named `held-…` for `HOLD_MS`, and counts those whose caller left meanwhile.
 */
class SoakFakeWeixinServer extends FakeWeixinServer {
  armed = false;
  uploadRequests = 0;
  readonly injected = new Map<string, number>();
  injectedTotal = 0;
  expireAllCalls = 0;
  heldCancelled = 0;
  heldAnswered = 0;

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
      this.holdIfNamed(exchange);
    }
    return super.handle(exchange);
  }

  /** The answer to a `held-…` upload waits `HOLD_MS`, or is never sent when the caller leaves first. */
  private holdIfNamed(exchange: FakeExchange): void {
    const answer = exchange.json.bind(exchange);
    exchange.json = (status, body) => {
      if (!exchange.entry.filename?.startsWith(HELD_UPLOAD_PREFIX)) return answer(status, body);
      const release = () => {
        clearTimeout(timer);
        exchange.res.off('close', release);
        if (exchange.gone) this.heldCancelled++;
        else {
          this.heldAnswered++;
          answer(status, body);
        }
      };
      const timer = setTimeout(release, HOLD_MS);
      exchange.res.once('close', release);
    };
  }
}

describe('soak: 1,000 uploads across 4 processes, a quarter through the controller over HTTP, with 20 % injected faults, caller and client aborts', () => {
  let redis: RedisServer;
  let client: Redis;
  let fake: SoakFakeWeixinServer;
  let fleet: Fleet | undefined;

  before(async () => {
    redis = await RedisServer.start();
    client = redis.createClient();
    console.log(
      '# soak | mode | ok | typed errors | service aborts (AbortError of aborted) | client aborts at the ' +
        'controller | token requests | forced expiries | faults | upload phase |',
    );
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
        controllerAdapters: CONTROLLER_ADAPTERS,
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
          controllerEvery: CONTROLLER_EVERY,
          abortEvery: ABORT_EVERY,
          clientAbortEvery: CLIENT_ABORT_EVERY,
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
        const expected =
          failure.via === 'controller'
            ? failure.aborted
              ? ['ClientAbort']
              : ['HTTP 502', 'HTTP 504']
            : failure.aborted
              ? ['AbortError', 'WeixinApiError', 'WeixinNetworkError']
              : ['WeixinApiError', 'WeixinNetworkError'];
        assert.ok(
          expected.includes(failure.errorName),
          `a typed error, not ${failure.errorName}: ${failure.message} (${failure.via})`,
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

      // The controller settled every request it received, once, and closed it: what it answered is what the
      // client got; a request whose client left was never answered, ended as the way it was left says, and
      // reached the filter, which logged it instead of answering.
      const viaController = results.filter((result) => result.via === 'controller');
      assert.equal(viaController.length, CONTROLLER_UPLOADS);
      for (const result of viaController) {
        const { server } = result;
        const name = `controller upload ${result.index} (${result.clientAbort ?? 'not aborted'})`;
        assert.ok(server, `${name} reached the controller`);
        assert.equal(server.settles, 1, `${name}: the route settled once, not ${server.settles} times`);
        assert.ok(server.closed, `${name}: its connection closed`);
        if (!result.clientAbort) {
          assert.equal(server.status, result.ok ? 201 : Number(result.errorName.slice(5)), name);
        } else {
          assert.equal(server.status, undefined, `${name}: nothing was answered`);
          if (result.clientAbort === 'mid-body') {
            assert.equal(server.ended, 'BadRequestException 400', name);
            assert.equal(server.weixinCalls, 0, `${name}: Weixin was never called`);
          } else {
            assert.equal(server.ended, 'AbortError', `${name}: the call to Weixin was aborted`);
            assert.ok(server.weixinCalls >= 1, `${name}: Weixin was called`);
          }
        }
      }
      const clientAborts = viaController.filter((result) => result.clientAbort);
      const midBody = clientAborts.filter((result) => result.clientAbort === 'mid-body').length;
      assert.ok(midBody > 0 && clientAborts.length - midBody > 0, 'clients left in both ways');
      const leftLines = (reports as WorkerReport[]).flatMap((report) =>
        report.audit!.logLines.filter((line) => line.includes(CLIENT_LEFT)),
      );
      assert.equal(leftLines.length, clientAborts.length, 'one filter log line per client that left');
      // No held Weixin call outlived its client: each was cancelled when the controller's call was aborted.
      assert.equal(fake.heldAnswered, 0, 'a held upload was answered after its client left');
      assert.ok(fake.heldCancelled > 0 && fake.heldCancelled <= clientAborts.length - midBody);

      // Nothing left behind: each worker holds the descriptors it held before its module was built, the
      // temp dir has no spooled file or controller upload, and no log line or error rendering holds a token
      // or the secret.
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

      const ok = (via: string) =>
        `${successes.filter((result) => result.via === via).length}/${results.filter((r) => r.via === via).length}`;
      const typed = failures.filter((failure) => !failure.aborted);
      const kinds = [...new Set(typed.map((f) => `${f.errorName}:${f.errcode ?? f.code}`))].join(', ');
      console.log(
        `# soak | ${tokenMode} | ${successes.length}/${TOTAL_UPLOADS} (service ${ok('service')}, ` +
          `controller ${ok('controller')}) | ${typed.length}${kinds ? ` (${kinds})` : ''} | ` +
          `${aborts.length} of ${results.filter((r) => r.aborted && r.via === 'service').length} | ` +
          `${clientAborts.length} (${midBody} mid-body: 400 to nobody; ${clientAborts.length - midBody} ` +
          `awaiting Weixin: call aborted, ${fake.heldCancelled} held Weixin requests cancelled) | ` +
          `${tokenRequests} | ${fake.forcedExpiries} | ${fake.injectedTotal} | ${elapsedMs} ms |`,
      );
      console.log(
        `# soak ${tokenMode}: descriptors before = after in all ${PROCESSES} workers, 0 temp files, ` +
          `${texts.length} log lines, error renderings and answers (${logLines} log lines) free of ` +
          `${tokens.size} tokens and the secret`,
      );
    });
  }
});
