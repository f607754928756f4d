import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { WeixinAccount } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import {
  type ControllerApp,
  eventually,
  HTTP_ADAPTERS,
  multipartBody,
  multipartContentType,
  type MultipartPart,
  rawRequest,
  type RawResponse,
  startControllerApp,
} from '../../support/media-controller-app';

const ACCOUNTS: WeixinAccount[] = [
  { appId: 'wxaaaa000000000001', appSecret: 'secret-of-a' },
  { appId: 'wxbbbb000000000002', appSecret: 'secret-of-b' },
];
const [A, B] = ACCOUNTS.map(({ appId }) => appId);
const UPLOAD = '/cgi-bin/media/upload';
const DOWNLOAD = '/cgi-bin/media/get';

/** The README's recipe: which caller may use which account, read from the URL's appid. */
@Injectable()
class AccountGuard implements CanActivate {
  private readonly allowed: Record<string, string[]> = { 'caller-x': [A] };

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{
      headers: Record<string, string | undefined>;
      query: Record<string, unknown>;
    }>();
    const caller = request.headers['x-caller'] ?? '';
    const appId = request.query.appid;
    if (typeof appId !== 'string' || !(this.allowed[caller] ?? []).includes(appId)) {
      throw new ForbiddenException(`caller ${caller} may not use account ${String(appId)}`);
    }
    return true;
  }
}

function upload(
  ctx: ControllerApp,
  query: string,
  image: Buffer,
  fields: MultipartPart[] = [],
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const body = multipartBody([
    ...fields,
    { name: 'media', filename: 'photo.jpg', contentType: 'image/jpeg', data: image },
  ]);
  return rawRequest(ctx.port, {
    path: `/weixin/media?type=image${query}`,
    headers: { 'content-type': multipartContentType(), 'content-length': body.length, ...headers },
    body,
  });
}

function download(ctx: ControllerApp, mediaId: string, query = '', headers = {}): Promise<RawResponse> {
  return rawRequest(ctx.port, { method: 'GET', path: `/weixin/media/${mediaId}${query}`, headers });
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`controller routes by appid (${adapter})`, () => {
    let ctx: ControllerApp | undefined;
    // The app closes before the fake is reset (hooks run in the order they are registered).
    afterEach(async () => {
      await ctx?.close();
      ctx = undefined;
    });
    const weixin = fakeWeixinPerTest({
      accounts: ACCOUNTS.map(({ appId, appSecret }) => ({ appId, appSecret: appSecret! })),
    });

    const start = (controller: object = { public: true }): Promise<ControllerApp> =>
      startControllerApp(weixin.fake, { adapter, controller, module: { accounts: ACCOUNTS } });

    describe('an accounts resolver that never answers', () => {
      let asked: string[] = [];
      /** Wedged (never settles) on its first call, answering A after. */
      const resolver = (appId: string) => {
        asked.push(appId);
        if (asked.length === 1) return new Promise<never>(() => undefined);
        return ACCOUNTS.find((account) => account.appId === appId);
      };
      // A request left waiting (the behaviour under test gone wrong) must not keep the app from closing.
      afterEach(() => ctx?.app.getHttpServer().closeAllConnections());
      const startWedged = (timeoutMs: number) => {
        asked = [];
        return startControllerApp(weixin.fake, { adapter, module: { accounts: resolver, timeoutMs } });
      };

      it(
        'answers 503 -1 after timeoutMs, and the next request asks the resolver again',
        { timeout: 10_000 },
        async () => {
          ctx = await startWedged(300);
          const wedged = await upload(ctx, `&appid=${A}`, distinctJpeg(`${adapter}-wedged`));
          assert.equal(wedged.status, 503, wedged.body);
          assert.equal(wedged.json?.errcode, -1);
          assert.match(
            String(wedged.json?.errmsg),
            /"wxaaaa000000000001" could not be looked up within 300 ms/,
          );
          const next = await upload(ctx, `&appid=${A}`, distinctJpeg(`${adapter}-next`));
          assert.equal(next.status, 201, next.body);
          assert.equal(asked.length, 2);
          assert.equal(weixin.fake.countRequests(UPLOAD, A), 1);
          assert.deepEqual(ctx.tempFiles(), []);
        },
      );

      it(
        'a client that leaves while the resolver is asked: its temp file is removed at once',
        { timeout: 10_000 },
        async () => {
          ctx = await startWedged(30_000);
          const app = ctx;
          const body = multipartBody([
            { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: distinctJpeg(adapter) },
          ]);
          const socket = connect(app.port, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.write(
            `POST /weixin/media?type=image&appid=${A} HTTP/1.1\r\nHost: x\r\n` +
              `Content-Type: ${multipartContentType()}\r\nContent-Length: ${body.length}\r\n\r\n`,
          );
          socket.write(body);
          assert.ok(await eventually(() => asked.length === 1), 'the resolver was asked');
          assert.equal(app.tempFiles().length, 1, 'the temp file is kept while the account is looked up');
          socket.destroy();
          assert.ok(await eventually(() => app.tempFiles().length === 0), 'removed without waiting 30 s');
          assert.equal(weixin.fake.countRequests(), 0);
        },
      );
    });

    it('uploads and downloads with the appid of the URL; the default account without one', async () => {
      ctx = await start();
      const toA = await upload(ctx, `&appid=${A}`, distinctJpeg(`${adapter}-a`));
      const toB = await upload(ctx, `&appid=${B}`, distinctJpeg(`${adapter}-b`));
      const toDefault = await upload(ctx, '', distinctJpeg(`${adapter}-default`));
      for (const answer of [toA, toB, toDefault]) assert.equal(answer.status, 201, answer.body);
      assert.equal(weixin.fake.countRequests(UPLOAD, A), 1);
      assert.equal(weixin.fake.countRequests(UPLOAD, B), 1);
      assert.equal(weixin.fake.countRequests(UPLOAD, weixin.fake.appId), 1);

      const mediaIdOfA = String(toA.json?.media_id);
      const fromA = await download(ctx, mediaIdOfA, `?appid=${A}`);
      assert.equal(fromA.status, 200, fromA.body);
      assert.equal(fromA.headers['content-type'], 'image/jpeg');
      assert.equal(weixin.fake.countRequests(DOWNLOAD, A), 1);

      // A's media_id is not B's: Weixin answers 40007, mapped to 404 as for any unknown media_id.
      const fromB = await download(ctx, mediaIdOfA, `?appid=${B}`);
      assert.equal(fromB.status, 404, fromB.body);
      assert.equal(fromB.json?.errcode, 40007);
      assert.equal(weixin.fake.countRequests(DOWNLOAD, B), 1);
      const fromDefault = await download(ctx, String(toDefault.json?.media_id));
      assert.equal(fromDefault.status, 200, fromDefault.body);
      assert.equal(weixin.fake.countRequests(DOWNLOAD, weixin.fake.appId), 1);
    });

    it('an unknown appid answers 404 40013, reaches no Weixin endpoint and leaves no temp file', async () => {
      ctx = await start();
      const uploaded = await upload(ctx, '&appid=wxnobody0000000000', distinctJpeg(`${adapter}-nobody`));
      assert.equal(uploaded.status, 404, uploaded.body);
      assert.equal(uploaded.json?.errcode, 40013);
      assert.match(String(uploaded.json?.errmsg), /wxnobody0000000000/);
      const downloaded = await download(ctx, 'some-media-id', '?appid=wxnobody0000000000');
      assert.equal(downloaded.status, 404, downloaded.body);
      assert.equal(downloaded.json?.errcode, 40013);
      assert.equal(weixin.fake.countRequests(), 0, 'nothing reached Weixin');
      assert.deepEqual(ctx.tempFiles(), []);
    });

    it('a malformed or repeated appid answers 400 40013 before anything is read or sent', async () => {
      ctx = await start();
      for (const query of ['&appid=wx%2F..%2Fsecret', `&appid=${'w'.repeat(65)}`, `&appid=${A}&appid=${B}`]) {
        const answer = await upload(ctx, query, distinctJpeg(`${adapter}-bad`));
        assert.equal(answer.status, 400, `${query}: ${answer.body}`);
        assert.equal(answer.json?.errcode, 40013);
      }
      const answer = await download(ctx, 'some-media-id', '?appid=a%20b');
      assert.equal(answer.status, 400, answer.body);
      assert.equal(answer.json?.errcode, 40013);
      assert.equal(weixin.fake.countRequests(), 0);
      assert.deepEqual(ctx.tempFiles(), []);
    });

    it('a guard decides which caller may use which account: 403 for the others, nothing sent', async () => {
      ctx = await start({ guards: [AccountGuard] });
      const allowed = await upload(ctx, `&appid=${A}`, distinctJpeg(`${adapter}-x-a`), [], {
        'x-caller': 'caller-x',
      });
      assert.equal(allowed.status, 201, allowed.body);
      assert.equal(weixin.fake.countRequests(UPLOAD, A), 1);
      const before = weixin.fake.countRequests();

      const refused = await upload(ctx, `&appid=${B}`, distinctJpeg(`${adapter}-x-b`), [], {
        'x-caller': 'caller-x',
      });
      assert.equal(refused.status, 403, refused.body);
      assert.equal(refused.json?.errcode, 403);
      const refusedDownload = await download(ctx, String(allowed.json?.media_id), `?appid=${B}`, {
        'x-caller': 'caller-x',
      });
      assert.equal(refusedDownload.status, 403, refusedDownload.body);
      assert.equal(weixin.fake.countRequests(), before, 'nothing reached Weixin for account B');
      assert.equal(weixin.fake.countRequests(UPLOAD, B), 0);
      assert.deepEqual(ctx.tempFiles(), []);
    });

    it('on a guarded controller a form appid must match the URL; alone or different it is refused', async () => {
      ctx = await start({ guards: [AccountGuard] });
      const headers = { 'x-caller': 'caller-x' };
      const same = await upload(
        ctx,
        `&appid=${A}`,
        distinctJpeg(`${adapter}-same`),
        [{ name: 'appid', data: A }],
        headers,
      );
      assert.equal(same.status, 201, same.body);
      assert.equal(weixin.fake.countRequests(UPLOAD, A), 1);

      // The guard checked A in the URL; B in the form would slip past it.
      const mismatch = await upload(
        ctx,
        `&appid=${A}`,
        distinctJpeg(`${adapter}-mismatch`),
        [{ name: 'appid', data: B }],
        headers,
      );
      assert.equal(mismatch.status, 400, mismatch.body);
      assert.equal(mismatch.json?.errcode, 40013);
      assert.match(String(mismatch.json?.errmsg), /in the URL but/);
      assert.equal(weixin.fake.countRequests(UPLOAD, B), 0);
      assert.deepEqual(ctx.tempFiles(), []);
    });

    it('on a public controller without guards a form appid alone picks the account', async () => {
      ctx = await start({ public: true });
      const viaForm = await upload(ctx, '', distinctJpeg(`${adapter}-form-b`), [{ name: 'appid', data: B }]);
      assert.equal(viaForm.status, 201, viaForm.body);
      assert.equal(weixin.fake.countRequests(UPLOAD, B), 1);
      assert.equal(weixin.fake.countRequests(UPLOAD, weixin.fake.appId), 0);
      const mismatch = await upload(ctx, `&appid=${A}`, distinctJpeg(`${adapter}-form-mm`), [
        { name: 'appid', data: B },
      ]);
      assert.equal(mismatch.status, 400, mismatch.body);
      assert.equal(mismatch.json?.errcode, 40013);
      const unknown = await upload(ctx, '', distinctJpeg(`${adapter}-form-unknown`), [
        { name: 'appid', data: 'wxnobody' },
      ]);
      assert.equal(unknown.status, 404, unknown.body);
      assert.equal(unknown.json?.errcode, 40013);
      assert.equal(weixin.fake.countRequests(UPLOAD, A), 0);
      assert.deepEqual(ctx.tempFiles(), []);
    });

    it('a public controller with a guard of its own refuses a form appid alone', async () => {
      const allowAll: CanActivate = { canActivate: () => true };
      ctx = await start({ public: true, guards: [allowAll] });
      const alone = await upload(ctx, '', distinctJpeg(`${adapter}-alone`), [{ name: 'appid', data: B }]);
      assert.equal(alone.status, 400, alone.body);
      assert.equal(alone.json?.errcode, 40013);
      assert.match(String(alone.json?.errmsg), /\?appid=/);
      assert.equal(weixin.fake.countRequests(), 0);
      assert.deepEqual(ctx.tempFiles(), []);
    });
  });
}
