import { type LoggerService } from '@nestjs/common';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { before, describe, it } from 'node:test';
import { WEIXIN_MEDIA_MODULE_OPTIONS, WeixinApiError, WeixinNetworkError } from '../../../lib';
import { redactSecrets } from '../../../lib/errors/secret-redaction';
import { fakeWeixinPerSuite, fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { mediaFixture } from '../../support/paths';

const IMAGE = readFileSync(mediaFixture('image.jpg'));
const UPLOAD = '/cgi-bin/media/upload';

describe('retries, timeouts and aborts', () => {
  const weixin = fakeWeixinPerTest();

  const passingFaults = [
    { name: 'system busy (-1)', fault: { errcode: -1, errmsg: 'system error' } },
    { name: 'HTTP 502', fault: { status: 502 } },
    { name: 'HTTP 503', fault: { status: 503 } },
    { name: 'connection reset', fault: { reset: true } },
  ];
  for (const { name, fault } of passingFaults) {
    it(`retries ${name} and succeeds`, async () => {
      const context = await weixin.module({ mediaCache: false });
      weixin.fake.injectFault({ path: UPLOAD, times: 2, ...fault });
      const media = await context.service.uploadImage(IMAGE);
      assert.ok(media.mediaId);
      assert.equal(weixin.fake.countRequests(UPLOAD), 3);
    });

    it(`gives up on ${name} after retry.attempts tries`, async () => {
      const context = await weixin.module({
        mediaCache: false,
        retry: { attempts: 3, baseDelayMs: 1 },
      });
      weixin.fake.injectFault({ path: UPLOAD, times: 10, ...fault });
      await assert.rejects(context.service.uploadImage(IMAGE), (error: unknown) => {
        assert.ok(error instanceof WeixinApiError || error instanceof WeixinNetworkError, String(error));
        return true;
      });
      assert.equal(weixin.fake.countRequests(UPLOAD), 3);
    });
  }

  for (const errcode of [45009, 45011, 48001, 40004, 40005, 40006, 40007, 41005, 41001]) {
    it(`never retries errcode ${errcode}`, async () => {
      const context = await weixin.module({ mediaCache: false });
      weixin.fake.injectFault({ path: UPLOAD, times: 5, errcode, errmsg: `fault ${errcode}` });
      await assert.rejects(context.service.uploadImage(IMAGE), (error: unknown) => {
        assert.ok(error instanceof WeixinApiError);
        assert.equal(error.errcode, errcode);
        assert.equal(error.path, UPLOAD);
        return true;
      });
      assert.equal(weixin.fake.countRequests(UPLOAD), 1);
    });
  }

  it('keeps the request id Weixin puts into errmsg', async () => {
    const context = await weixin.module({ mediaCache: false });
    weixin.fake.injectFault({
      path: UPLOAD,
      errcode: 45009,
      errmsg: 'reach max api daily quota limit rid: 6650f3f1-1a2b3c4d-5e6f',
    });
    await assert.rejects(context.service.uploadImage(IMAGE), (error: WeixinApiError) => {
      assert.equal(error.rid, '6650f3f1-1a2b3c4d-5e6f');
      assert.match(error.message, /daily quota for \/cgi-bin\/media\/upload is used up/);
      assert.match(error.hint!, /midnight Beijing time \(UTC\+8\)/);
      return true;
    });
  });

  it('times out a request that gets no answer, aborting the socket, then retries', async () => {
    const context = await weixin.module({ mediaCache: false, timeoutMs: 200 });
    weixin.fake.injectFault({ path: UPLOAD, delayMs: 2_000, times: 1 });
    const started = Date.now();
    const media = await context.service.uploadImage(IMAGE);
    assert.ok(media.mediaId);
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    assert.equal(weixin.fake.countRequests(UPLOAD), 2);
  });

  it('answers a timeout error when every try times out', async () => {
    const context = await weixin.module({
      mediaCache: false,
      timeoutMs: 100,
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    weixin.fake.injectFault({ path: UPLOAD, delayMs: 1_000, times: 5 });
    const started = Date.now();
    await assert.rejects(context.service.uploadImage(IMAGE), (error: unknown) => {
      assert.ok(error instanceof WeixinNetworkError);
      assert.equal(error.timedOut, true);
      assert.match(error.message, /within 100 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 900, `took ${Date.now() - started} ms`);
  });

  it('a signal aborts an upload in flight, including its retries', async () => {
    const context = await weixin.module({ mediaCache: false });
    weixin.fake.injectFault({ path: UPLOAD, delayMs: 2_000, times: 5 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await assert.rejects(context.service.uploadImage(IMAGE, { signal: controller.signal }), {
      name: 'AbortError',
    });
    assert.ok(Date.now() - started < 1_000);
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
  });

  it('an already aborted signal makes no request at all', async () => {
    const context = await weixin.module({ mediaCache: false });
    await assert.rejects(context.service.uploadImage(IMAGE, { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
    assert.equal(weixin.fake.requests.length, 0);
  });

  it('retries token requests that meet passing faults', async () => {
    const context = await weixin.module({ mediaCache: false });
    weixin.fake.injectFault({ path: '/cgi-bin/stable_token', status: 500, times: 2 });
    assert.ok((await context.service.uploadImage(IMAGE)).mediaId);
    assert.equal(weixin.fake.countRequests('/cgi-bin/stable_token'), 3);
  });
});

describe('secret redaction', () => {
  const logged: string[] = [];
  const logger: LoggerService = {
    log: (message: unknown) => void logged.push(String(message)),
    error: (message: unknown, ...rest: unknown[]) =>
      void logged.push([message, ...rest].map(String).join(' ')),
    warn: (message: unknown) => void logged.push(String(message)),
    debug: (message: unknown) => void logged.push(String(message)),
    verbose: (message: unknown) => void logged.push(String(message)),
  };

  const weixin = fakeWeixinPerSuite({
    mediaCache: false,
    timeoutMs: 150,
    retry: { attempts: 2, baseDelayMs: 1 },
  });
  before(() => weixin.context.moduleRef.useLogger(logger));

  function issuedTokens(): string[] {
    return weixin.fake.requests
      .map((r) => r.query.access_token)
      .filter((token): token is string => Boolean(token));
  }

  function assertClean(text: string): void {
    assert.ok(!text.includes(weixin.fake.appSecret), 'the app secret leaked');
    for (const token of issuedTokens()) {
      assert.ok(!text.includes(token), 'an access token leaked');
    }
  }

  for (const fault of [
    { errcode: 40001, errmsg: 'invalid credential', times: 3 },
    { reset: true, times: 3 },
    { status: 502, times: 3 },
    { delayMs: 1_000, times: 3 },
  ]) {
    it(`errors carry no token or secret: ${JSON.stringify(fault)}`, async () => {
      weixin.fake.injectFault({ path: UPLOAD, ...fault });
      const error = await weixin.service.uploadImage(IMAGE).then(
        () => assert.fail('expected a failure'),
        (caught: Error) => caught,
      );
      assert.ok(issuedTokens().length > 0);
      assertClean(`${error.message}\n${error.stack}\n${JSON.stringify(error)}\n${String(error)}`);
      assertClean(inspect(error, { depth: 10, showHidden: true }));
    });
  }

  it('log lines carry no token or secret', () => {
    assertClean(logged.join('\n'));
  });

  it('the service, its options and listed accounts render no token or secret', async () => {
    const listedSecret = 'listed-account-secret-0123';
    const withAccounts = await weixin.module({
      accounts: [{ appId: 'wx00000000000000b2', appSecret: listedSecret }],
    });
    try {
      await withAccounts.service.uploadImage(IMAGE, { reuse: false });
      const options = withAccounts.moduleRef.get(WEIXIN_MEDIA_MODULE_OPTIONS);
      assert.equal(options.appSecret, weixin.fake.appSecret, 'the secret is still there to use');
      for (const text of [
        inspect(withAccounts.service),
        inspect(withAccounts.service, { depth: Infinity }),
        inspect(options, { depth: Infinity }),
        JSON.stringify(options),
      ]) {
        assertClean(text);
        assert.ok(!text.includes(listedSecret), "a listed account's secret leaked");
      }
    } finally {
      await withAccounts.close();
    }
  });

  it('redactSecrets removes query, JSON and literal secrets', () => {
    const text = 'GET /x?access_token=AbC123&type=image {"secret":"s3cr3t"} appsecret=zzz literal-value';
    const clean = redactSecrets(text, ['literal-value']);
    assert.ok(!/AbC123|s3cr3t|zzz|literal-value/.test(clean), clean);
    assert.match(clean, /type=image/);
  });
});
