import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { afterEach, describe, it } from 'node:test';
import {
  InMemoryCallbackStore,
  OnWeixinMessage,
  WEIXIN_MEDIA_MODULE_OPTIONS,
  WeixinMediaModule,
  WeixinMediaOptionsError,
} from '../../../lib';
import { WEIXIN_CALLBACK_STORE } from '../../../lib/callback/callback-store.provider';

const CREDENTIALS = { appId: 'wx0123456789abcdef', appSecret: 'unit-test-secret-value' };
const TOKEN = 'unitToken42';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

async function rejectionOf(imports: any[], providers: any[] = []): Promise<Error> {
  try {
    const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
    await moduleRef.init();
    await moduleRef.close();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected the module to fail');
}

describe('WeixinMediaModule with callback', () => {
  afterEach(() => {
    delete process.env.WEIXIN_TOKEN;
    delete process.env.WEIXIN_ENCODING_AES_KEY;
  });

  it('fails bootstrap with one error naming every problem, never a secret', async () => {
    const error = await rejectionOf([
      WeixinMediaModule.forRoot({
        ...CREDENTIALS,
        encodingAESKey: 'too-short-secret-key',
        accounts: [{ appId: 'wx00000000000000b1', appSecret: 's', callbackToken: 'has-a-dash' }],
        callback: { replyWithinMs: 0, typing: 'yes' as never },
      }),
    ]);
    assert.ok(error instanceof WeixinMediaOptionsError, String(error));
    const message = error.message;
    assert.match(message, /WEIXIN_TOKEN\): the Token is missing/);
    assert.match(message, /EncodingAESKey must be 43 characters/);
    assert.match(message, /accounts\[0\]\): the Token must be 3-32 letters and digits/);
    assert.match(message, /callback\.replyWithinMs must be a positive whole number/);
    assert.match(message, /callback\.typing must be true or false/);
    assert.doesNotMatch(message, /too-short-secret-key|has-a-dash/);
  });

  it('reads WEIXIN_TOKEN and WEIXIN_ENCODING_AES_KEY, and keeps them out of inspect and JSON', async () => {
    process.env.WEIXIN_TOKEN = TOKEN;
    process.env.WEIXIN_ENCODING_AES_KEY = KEY;
    const moduleRef = await Test.createTestingModule({
      imports: [WeixinMediaModule.forRoot({ ...CREDENTIALS, callback: {} })],
    }).compile();
    const options = moduleRef.get(WEIXIN_MEDIA_MODULE_OPTIONS);
    assert.equal(options.callbackToken, TOKEN);
    assert.equal(options.encodingAESKey, KEY);
    assert.doesNotMatch(inspect(options) + JSON.stringify(options), new RegExp(`${TOKEN}|${KEY}`));
    assert.ok(moduleRef.get(WEIXIN_CALLBACK_STORE) instanceof InMemoryCallbackStore);
    await moduleRef.close();
  });

  it("forRootAsync: the flag shapes the module, the secrets come from the factory's answer", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        WeixinMediaModule.forRootAsync({
          callback: { path: 'wx/in' },
          useFactory: () => ({ ...CREDENTIALS, callbackToken: TOKEN }),
        }),
      ],
    }).compile();
    assert.equal(moduleRef.get(WEIXIN_MEDIA_MODULE_OPTIONS).callbackToken, TOKEN);
    await moduleRef.close();
  });

  it('fails bootstrap when two handlers take the same messages', async () => {
    @Injectable()
    class FirstBot {
      @OnWeixinMessage('text') a(): string {
        return 'a';
      }
    }
    @Injectable()
    class SecondBot {
      @OnWeixinMessage('text') b(): string {
        return 'b';
      }
    }
    const error = await rejectionOf(
      [WeixinMediaModule.forRoot({ ...CREDENTIALS, callbackToken: TOKEN, callback: {} })],
      [FirstBot, SecondBot],
    );
    assert.ok(error instanceof WeixinMediaOptionsError, String(error));
    assert.match(error.message, /FirstBot\.a and SecondBot\.b both handle the message "text"/);
  });
});
