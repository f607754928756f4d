import { type CanActivate, type ExecutionContext, Injectable, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AES_KEY,
  CALLBACK_TOKEN,
  type CallbackApp,
  startCallbackApp,
  USER,
} from '../../support/callback-app';
import { FakeWeixin } from '../../support/fake-weixin-hooks';
import { HTTP_ADAPTERS } from '../../support/media-controller-app';

const OWN_TOKEN_ACCOUNT = 'wx00000000000000b1';
const DEFAULT_TOKEN_ACCOUNT = 'wx00000000000000c2';
const OWN_TOKEN = 'accountB1Token';
const OWN_KEY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut';

/** The app's own global guard: an IP allow-list stand-in that also records what it saw. */
@Injectable()
class AllowListGuard implements CanActivate {
  static readonly seen: string[] = [];

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ url: string; headers: Record<string, string> }>();
    AllowListGuard.seen.push(request.url.split('?')[0]);
    return request.headers['x-blocked'] === undefined;
  }
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`callback with several accounts on ${adapter}`, () => {
    const weixin = new FakeWeixin({}, false);
    let callback: CallbackApp;

    before(async () => {
      callback = await startCallbackApp(weixin.fake, {
        adapter,
        module: {
          accounts: [
            {
              appId: OWN_TOKEN_ACCOUNT,
              appSecret: 'secret-b1',
              callbackToken: OWN_TOKEN,
              encodingAESKey: OWN_KEY,
            },
            { appId: DEFAULT_TOKEN_ACCOUNT, appSecret: 'secret-c2' },
          ],
        },
        callback: { encodingAESKey: AES_KEY },
        metadata: { providers: [{ provide: APP_GUARD, useClass: AllowListGuard }] },
        configure: (app: INestApplication) => {
          // The app's own global middleware: a request id on every answer.
          app.use((_request: IncomingMessage, response: ServerResponse, next: () => void) => {
            response.setHeader('X-Request-Id', 'req-42');
            next();
          });
        },
      });
    });
    after(() => callback?.close());
    beforeEach(() => {
      callback.bot.calls.length = 0;
      AllowListGuard.seen.length = 0;
    });

    const deliver = (path: string, appId: string, token: string, encodingAESKey: string) =>
      weixin.fake.deliver(
        `${callback.url}/weixin/callback${path}`,
        { MsgType: 'text', Content: 'hi', FromUserName: USER },
        { mode: 'safe', token, encodingAESKey, appId, tries: 1 },
      );

    it('serves each account on {path}/:appId with its own secrets, or the default ones', async () => {
      const own = await deliver(`/${OWN_TOKEN_ACCOUNT}`, OWN_TOKEN_ACCOUNT, OWN_TOKEN, OWN_KEY);
      assert.equal(own.reply?.Content, 'echo: hi');
      const inherited = await deliver(
        `/${DEFAULT_TOKEN_ACCOUNT}`,
        DEFAULT_TOKEN_ACCOUNT,
        CALLBACK_TOKEN,
        AES_KEY,
      );
      assert.equal(inherited.reply?.Content, 'echo: hi');
      const fallback = await deliver('', weixin.fake.appId, CALLBACK_TOKEN, AES_KEY);
      assert.equal(fallback.reply?.Content, 'echo: hi');
      assert.deepEqual(
        callback.bot.calls.map(({ context }) => context.appId),
        [OWN_TOKEN_ACCOUNT, DEFAULT_TOKEN_ACCOUNT, weixin.fake.appId],
      );
    });

    it("refuses one account's message signed with another's Token (401), and an unknown AppID (404)", async () => {
      const foreign = await deliver(`/${OWN_TOKEN_ACCOUNT}`, OWN_TOKEN_ACCOUNT, CALLBACK_TOKEN, AES_KEY);
      assert.equal(foreign.status, 401);
      const unknown = await deliver('/wx00000000000000ee', 'wx00000000000000ee', CALLBACK_TOKEN, AES_KEY);
      assert.equal(unknown.status, 404);
      assert.equal(callback.bot.calls.length, 0);
    });

    it("the app's global guard and middleware see the callback route like any other", async () => {
      const response = await fetch(
        `${callback.url}/weixin/callback?signature=0&timestamp=0&nonce=0&echostr=e`,
      );
      assert.equal(response.headers.get('x-request-id'), 'req-42');
      assert.deepEqual(AllowListGuard.seen, ['/weixin/callback']);
      const blocked = await fetch(`${callback.url}/weixin/callback?signature=0`, {
        method: 'POST',
        headers: { 'x-blocked': '1', 'content-type': 'text/xml' },
        body: '<xml></xml>',
      });
      assert.equal(blocked.status, 403, 'the app guard answered before the library');
    });
  });
}
