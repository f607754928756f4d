import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import {
  AccountResolverTimeoutError,
  type TokenMode,
  UnknownAccountError,
  WeixinApiError,
  type WeixinAccount,
  WeixinMediaOptionsError,
} from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { createMediaTestingModule, type MediaTestContext } from '../../support/testing-module';

const ACCOUNTS: WeixinAccount[] = Array.from({ length: 5 }, (_, index) => ({
  appId: `wxacc0000000000${index}`,
  appSecret: `secret-of-account-${index}`,
}));
const UPLOAD = '/cgi-bin/media/upload';
/** The fake serves every account of the list. */
const SERVED = { accounts: ACCOUNTS.map(({ appId, appSecret }) => ({ appId, appSecret: appSecret! })) };

describe('several accounts in one process', () => {
  const weixin = fakeWeixinPerTest(SERVED);

  for (const tokenMode of ['stable', 'classic'] as TokenMode[]) {
    it(`${tokenMode}: 5 accounts × 100 concurrent cold uploads make exactly 5 token requests`, async () => {
      const context = await weixin.module({ accounts: ACCOUNTS, tokenMode });
      const { service } = context;
      const uploads = ACCOUNTS.flatMap(({ appId }) =>
        Array.from({ length: 100 }, (_, index) =>
          service.forAccount(appId).uploadImage(distinctJpeg(`${appId}-${index}`)),
        ),
      );
      const results = await Promise.all(uploads);
      assert.equal(results.length, 500);
      assert.equal(weixin.fake.tokenRequestCount, 5);
      for (const { appId } of ACCOUNTS) {
        assert.equal(weixin.fake.countTokenRequests(appId), 1, `one token request for ${appId}`);
        assert.equal(weixin.fake.countRequests(UPLOAD, appId), 100, `100 uploads with ${appId}'s token`);
      }
      // The top-level account was never involved.
      assert.equal(weixin.fake.countTokenRequests(weixin.fake.appId), 0);
    });
  }

  it('the plain methods use the top-level account; forAccount(its appId) is the same account', async () => {
    const context = await weixin.module({ accounts: ACCOUNTS });
    const image = distinctJpeg('default');
    const plain = await context.service.uploadImage(image);
    const bound = await context.service.forAccount(weixin.fake.appId).uploadImage(image);
    assert.equal(bound.mediaId, plain.mediaId);
    assert.equal(bound.reused, true);
    assert.equal(weixin.fake.countTokenRequests(weixin.fake.appId), 1);
  });

  it('without a top-level appId a plain call rejects and says to use forAccount(appId)', async () => {
    const context = await weixin.module({
      appId: undefined,
      appSecret: undefined,
      accounts: ACCOUNTS,
    });
    await assert.rejects(context.service.uploadImage(distinctJpeg('x')), /forAccount\(appId\)/);
    await assert.rejects(context.service.download('some-id'), /forAccount\(appId\)/);
    const media = await context.service.forAccount(ACCOUNTS[0].appId).uploadImage(distinctJpeg('y'));
    assert.equal(typeof media.mediaId, 'string');
    assert.equal(weixin.fake.countRequests(), 2, 'a token and an upload, nothing for the rejected calls');
  });

  it('reuse entries are per account: identical content uploads once per account', async () => {
    const context = await weixin.module({ accounts: ACCOUNTS });
    const image = distinctJpeg('same for everyone');
    const [a, b] = ACCOUNTS.map(({ appId }) => context.service.forAccount(appId));
    const first = await a.uploadImage(image);
    const second = await b.uploadImage(image);
    const again = await b.uploadImage(image);
    assert.equal(first.reused, false);
    assert.equal(second.reused, false);
    assert.notEqual(first.mediaId, second.mediaId);
    assert.equal(again.reused, true);
    assert.equal(again.mediaId, second.mediaId);
  });

  it("a download of another account's media_id answers 40007", async () => {
    const context = await weixin.module({ accounts: ACCOUNTS });
    const [a, b] = ACCOUNTS.map(({ appId }) => context.service.forAccount(appId));
    const { mediaId } = await a.uploadImage(distinctJpeg('mine'));
    assert.equal((await a.download(mediaId)).kind, 'file');
    await assert.rejects(b.download(mediaId), (error: unknown) => {
      assert.ok(error instanceof WeixinApiError);
      assert.equal(error.errcode, 40007);
      return true;
    });
  });

  it("a 40007 one account meets on another's media_id leaves the other's reuse entry", async () => {
    const context = await weixin.module({ accounts: ACCOUNTS });
    const [a, b] = ACCOUNTS.map(({ appId }) => context.service.forAccount(appId));
    const image = distinctJpeg('owned by b');
    const { mediaId } = await b.uploadImage(image);
    await assert.rejects(
      a.download(mediaId),
      (error: unknown) => (error as WeixinApiError).errcode === 40007,
    );
    const again = await b.uploadImage(image);
    assert.equal(again.reused, true, "b's entry was kept");
    assert.equal(again.mediaId, mediaId);
    assert.equal(weixin.fake.countRequests(UPLOAD, ACCOUNTS[1].appId), 1, 'b uploaded once');
  });

  it("one account's 40125 (wrong secret) leaves the others' uploads untouched", async () => {
    const broken = { appId: ACCOUNTS[0].appId, appSecret: 'not-the-secret' };
    const context = await weixin.module({ accounts: [broken, ...ACCOUNTS.slice(1)] });
    const { service } = context;
    const outcomes = await Promise.allSettled(
      ACCOUNTS.flatMap(({ appId }) =>
        Array.from({ length: 20 }, (_, index) =>
          service.forAccount(appId).uploadImage(distinctJpeg(`${appId}-${index}`)),
        ),
      ),
    );
    const failed = outcomes.slice(0, 20);
    const others = outcomes.slice(20);
    assert.ok(failed.every((outcome) => outcome.status === 'rejected'));
    for (const outcome of failed) {
      assert.equal(((outcome as PromiseRejectedResult).reason as WeixinApiError).errcode, 40125);
    }
    assert.deepEqual(
      others.filter((outcome) => outcome.status === 'rejected'),
      [],
      'every other account uploaded',
    );
    assert.equal(weixin.fake.countRequests(UPLOAD), 80);
    for (const { appId } of ACCOUNTS.slice(1)) assert.equal(weixin.fake.countTokenRequests(appId), 1);
  });

  it('an authorizer-token provider is asked again once after 40001', async () => {
    const [account] = ACCOUNTS;
    let calls = 0;
    const accessTokenProvider = async (): Promise<string> => {
      calls++;
      if (calls === 1) return 'an-authorizer-token-that-expired';
      // The platform's own flow: here, the fake hands the account a token.
      const query = new URLSearchParams({
        grant_type: 'client_credential',
        appid: account.appId,
        secret: account.appSecret!,
      });
      const answer = (await (await fetch(`${weixin.baseUrl}/cgi-bin/token?${query}`)).json()) as {
        access_token: string;
      };
      return answer.access_token;
    };
    const context = await weixin.module({
      accounts: [{ appId: account.appId, accessTokenProvider }],
    });
    const media = await context.service.forAccount(account.appId).uploadImage(distinctJpeg('platform'));
    assert.equal(typeof media.mediaId, 'string');
    assert.equal(calls, 2, 'asked once, and once again after 40001');
    const uploads = weixin.fake.requests.filter((entry) => entry.path === UPLOAD);
    assert.deepEqual(
      uploads.map((entry) => entry.errcode ?? 0),
      [40001, 0],
    );
  });
});

describe('accounts through a resolver', () => {
  let context: MediaTestContext;
  const asked: string[] = [];
  const known = new Map(ACCOUNTS.map((account) => [account.appId, account]));
  const resolver = async (appId: string): Promise<WeixinAccount | undefined> => {
    asked.push(appId);
    // A database answers a little later than at once.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return known.get(appId);
  };

  const weixin = fakeWeixinPerTest(SERVED);
  beforeEach(async () => {
    asked.length = 0;
    context = await weixin.module({ accounts: resolver, accountCacheMs: 300 });
  });

  it('is asked once per appId under 100 concurrent calls, and again after forgetAccount', async () => {
    const { service } = context;
    const [a, b] = ACCOUNTS;
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        service.forAccount(index % 2 ? a.appId : b.appId).uploadImage(distinctJpeg(`r-${index}`)),
      ),
    );
    assert.deepEqual([...asked].sort(), [a.appId, b.appId].sort());
    assert.equal(weixin.fake.tokenRequestCount, 2);

    await service.forgetAccount(a.appId);
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        service.forAccount(a.appId).uploadImage(distinctJpeg(`f-${index}`)),
      ),
    );
    assert.equal(asked.filter((appId) => appId === a.appId).length, 2);
    assert.equal(asked.filter((appId) => appId === b.appId).length, 1);
    // Forgetting the resolution keeps the token: no second token request.
    assert.equal(weixin.fake.countTokenRequests(a.appId), 1);
  });

  it('is asked again once accountCacheMs has passed', async () => {
    const account = context.service.forAccount(ACCOUNTS[2].appId);
    await account.uploadImage(distinctJpeg('t1'));
    await account.uploadImage(distinctJpeg('t2'));
    assert.equal(asked.length, 1);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await account.uploadImage(distinctJpeg('t3'));
    assert.equal(asked.length, 2);
  });

  it('an unknown appId rejects with UnknownAccountError (errcode 40013) and is asked again next time', async () => {
    const unknown = context.service.forAccount('wxunknown0000000');
    for (let round = 1; round <= 2; round++) {
      await assert.rejects(unknown.uploadImage(distinctJpeg('u')), (error: unknown) => {
        assert.ok(error instanceof UnknownAccountError);
        assert.equal(error.appId, 'wxunknown0000000');
        assert.equal(error.errcode, 40013);
        return true;
      });
      assert.equal(asked.length, round);
    }
    await assert.rejects(context.service.forAccount('../etc/passwd').download('x'), UnknownAccountError);
    assert.equal(asked.length, 2, 'a malformed appId never reaches the resolver');
    assert.equal(weixin.fake.countRequests(), 0);
  });

  it('keeps at most maxAccounts resolutions (least recently used dropped first)', async () => {
    await context.close();
    context = await weixin.module({ accounts: resolver, maxAccounts: 2 });
    const [a, b, c] = ACCOUNTS.map(({ appId }) => context.service.forAccount(appId));
    await a.uploadImage(distinctJpeg('1'));
    await b.uploadImage(distinctJpeg('2'));
    await a.uploadImage(distinctJpeg('3'));
    await c.uploadImage(distinctJpeg('4')); // drops b, the least recently used
    await a.uploadImage(distinctJpeg('5'));
    await b.uploadImage(distinctJpeg('6'));
    assert.deepEqual(asked, [ACCOUNTS[0].appId, ACCOUNTS[1].appId, ACCOUNTS[2].appId, ACCOUNTS[1].appId]);
  });

  it('a resolver that answers another appId is refused, never used', async () => {
    await context.close();
    context = await weixin.module({ accounts: async () => ACCOUNTS[0] });
    await assert.rejects(
      context.service.forAccount(ACCOUNTS[1].appId).uploadImage(distinctJpeg('w')),
      /asked for "wxacc00000000001" and answered "wxacc00000000000"/,
    );
    assert.equal(weixin.fake.countRequests(), 0);
  });
});

describe('an accounts resolver that never answers', () => {
  const weixin = fakeWeixinPerTest(SERVED);
  const [account] = ACCOUNTS;
  /** Wedged (a promise that never settles) on its first call for each AppID, answering after. */
  const wedgedOnce = (asked: string[]) => (appId: string) => {
    asked.push(appId);
    if (asked.filter((asking) => asking === appId).length === 1) return new Promise<never>(() => undefined);
    return ACCOUNTS.find((known) => known.appId === appId);
  };

  it(
    'fails after timeoutMs with an error naming the appId and the limit; the next call asks again',
    {
      timeout: 10_000,
    },
    async () => {
      const asked: string[] = [];
      const context = await weixin.module({ accounts: wedgedOnce(asked), timeoutMs: 300 });
      const media = context.service.forAccount(account.appId);
      const waiting = [media.uploadImage(distinctJpeg('w1')), media.uploadImage(distinctJpeg('w2'))];
      for (const outcome of await Promise.allSettled(waiting)) {
        assert.equal(outcome.status, 'rejected');
        const error = (outcome as PromiseRejectedResult).reason as AccountResolverTimeoutError;
        assert.ok(error instanceof AccountResolverTimeoutError, String(error));
        assert.equal(error.appId, account.appId);
        assert.equal(error.timeoutMs, 300);
        assert.match(error.message, /"wxacc00000000000" within 300 ms \(timeoutMs\)/);
      }
      assert.equal(asked.length, 1, 'concurrent calls wait on one resolution');
      const uploaded = await media.uploadImage(distinctJpeg('w3'));
      assert.equal(typeof uploaded.mediaId, 'string');
      assert.equal(asked.length, 2, 'asked again, not the wedged promise waited on');
      assert.equal(weixin.fake.countRequests(UPLOAD, account.appId), 1);
    },
  );

  it("an aborted call stops waiting at once; the others' wait is theirs", { timeout: 10_000 }, async () => {
    const asked: string[] = [];
    const context = await weixin.module({ accounts: wedgedOnce(asked), timeoutMs: 2_000 });
    const media = context.service.forAccount(account.appId);
    const aborting = new AbortController();
    const aborted = media.uploadImage(distinctJpeg('a1'), { signal: aborting.signal });
    const download = assert.rejects(
      media.download('some-media-id', AbortSignal.abort(new Error('gone already'))),
      /gone already/,
    );
    const other = media.uploadImage(distinctJpeg('a2'));
    let otherSettled = false;
    void other.catch(() => undefined).finally(() => (otherSettled = true));
    await new Promise((resolve) => setImmediate(resolve));
    aborting.abort(new Error('the caller left'));
    await assert.rejects(aborted, /the caller left/);
    await download;
    assert.equal(otherSettled, false, 'a call without a signal still waits (up to timeoutMs)');
    await assert.rejects(other, AccountResolverTimeoutError);
    assert.equal(weixin.fake.countRequests(), 0);
  });
});

describe('accounts options at bootstrap', () => {
  it('names every problem of the accounts list, never a secret', async () => {
    const fake = await FakeWeixinServer.start();
    try {
      await assert.rejects(
        createMediaTestingModule(fake, {
          accounts: [
            { appId: 'wx with spaces', appSecret: 'a secret value' },
            { appId: 'wxacc0000000000x' },
            { appId: 'wxacc0000000000y', appSecret: 's', tokenMode: 'odd' as TokenMode },
            { appId: 'wxacc0000000000y', appSecret: 's' },
          ],
          accountCacheMs: -1,
          maxAccounts: 0,
        }),
        (error: unknown) => {
          assert.ok(error instanceof WeixinMediaOptionsError);
          const text = error.problems.join('\n');
          assert.match(text, /accounts\[0\]\.appId is malformed/);
          assert.match(text, /accounts\[0\]\.appSecret is malformed/);
          assert.match(text, /accounts\[1\]\.appSecret is missing/);
          assert.match(text, /accounts\[2\]\.tokenMode/);
          assert.match(text, /lists "wxacc0000000000y" twice/);
          assert.match(text, /accountCacheMs/);
          assert.match(text, /maxAccounts/);
          assert.ok(!error.message.includes('a secret value'));
          return true;
        },
      );
    } finally {
      await fake.close();
    }
  });
});
