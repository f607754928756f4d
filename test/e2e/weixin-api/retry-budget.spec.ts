import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { mediaFixture } from '../../support/paths';

const IMAGE = readFileSync(mediaFixture('image.jpg'));
const UPLOAD = '/cgi-bin/media/upload';
const STABLE_TOKEN = '/cgi-bin/stable_token';
const ATTEMPTS = 3;
const BASE_DELAY_MS = 50;
const TIMEOUT_MS = 400;
/**
 * The README's bound for a call that fails for good: `attempts` tries of at most `timeoutMs` each, and
 * the backoffs between them (each at most 1.5 × baseDelayMs × 2^(n-1)), plus a little for the machine.
 */
const BACKOFF_MS = Array.from({ length: ATTEMPTS - 1 }, (_, n) => 1.5 * BASE_DELAY_MS * 2 ** n).reduce(
  (sum, ms) => sum + ms,
  0,
);
const BOUND_MS = ATTEMPTS * TIMEOUT_MS + BACKOFF_MS + 500;

describe('one retry budget per call', () => {
  const weixin = fakeWeixinPerTest();

  const start = (options: { timeoutMs?: number } = {}) =>
    weixin.module({
      mediaCache: false,
      timeoutMs: TIMEOUT_MS,
      retry: { attempts: ATTEMPTS, baseDelayMs: BASE_DELAY_MS },
      ...options,
    });

  it(`every token request answers -1: one upload makes at most ${ATTEMPTS} token requests, within the bound`, async () => {
    const context = await start();
    weixin.fake.injectFault({ path: STABLE_TOKEN, errcode: -1, times: 100 });
    const started = Date.now();
    await assert.rejects(context.service.uploadImage(IMAGE), (error) => {
      assert.ok(error instanceof WeixinApiError && error.errcode === -1, String(error));
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(weixin.fake.tokenRequestCount <= ATTEMPTS, `${weixin.fake.tokenRequestCount} token requests`);
    assert.equal(weixin.fake.countRequests(UPLOAD), 0);
    assert.ok(elapsed <= BOUND_MS, `rejected after ${elapsed} ms (bound ${BOUND_MS} ms)`);
  });

  it('every token request times out: at most attempts token requests, rejected within the bound', async () => {
    const context = await start();
    weixin.fake.injectFault({ path: STABLE_TOKEN, delayMs: 10_000, times: 100 });
    const started = Date.now();
    await assert.rejects(context.service.uploadImage(IMAGE), (error) => {
      assert.ok(error instanceof WeixinNetworkError && error.timedOut, String(error));
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(weixin.fake.tokenRequestCount <= ATTEMPTS, `${weixin.fake.tokenRequestCount} token requests`);
    assert.ok(elapsed <= BOUND_MS, `rejected after ${elapsed} ms (bound ${BOUND_MS} ms)`);
  });

  it('passing faults on the token and on the upload share the budget', async () => {
    const context = await start();
    // One -1 on the token request, then the upload meets -1 twice: the call's third passing fault.
    weixin.fake.injectFault({ path: STABLE_TOKEN, errcode: -1, times: 1 });
    weixin.fake.injectFault({ path: UPLOAD, errcode: -1, times: 2 });
    await assert.rejects(context.service.uploadImage(IMAGE), (error) => {
      assert.ok(error instanceof WeixinApiError && error.errcode === -1, String(error));
      return true;
    });
    assert.equal(weixin.fake.tokenRequestCount, 2);
    assert.equal(weixin.fake.countRequests(UPLOAD), 2);
  });

  it('a rejected token is refreshed once; a refresh that fails ends the call', async () => {
    const context = await start();
    await context.service.uploadImage(IMAGE);
    weixin.fake.reset();
    weixin.fake.injectFault({ path: UPLOAD, errcode: 40001, times: 1 });
    weixin.fake.injectFault({ path: STABLE_TOKEN, errcode: -1, times: 100 });
    await assert.rejects(context.service.uploadImage(IMAGE), (error) => {
      assert.ok(error instanceof WeixinApiError && error.errcode === -1, String(error));
      return true;
    });
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);
    assert.ok(weixin.fake.tokenRequestCount <= ATTEMPTS, `${weixin.fake.tokenRequestCount} token requests`);
  });

  it('keeps the single flight: 1,000 concurrent cold uploads make one token request', async () => {
    const context = await start({ timeoutMs: 30_000 });
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => context.service.uploadImage(IMAGE)),
    );
    assert.equal(results.length, 1_000);
    assert.equal(weixin.fake.tokenRequestCount, 1);
  });
});
