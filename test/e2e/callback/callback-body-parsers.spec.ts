import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import express from 'express';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AES_KEY,
  CALLBACK_TOKEN,
  type CallbackAppOptions,
  startCallbackApp,
  USER,
} from '../../support/callback-app';
import { FakeWeixin } from '../../support/fake-weixin-hooks';

/** Apps whose own body parsers see the callback's XML first: the callback still reads it, within its limits. */
const APPS: Array<{ name: string; options: CallbackAppOptions }> = [
  {
    name: 'Express with express.text() for XML',
    options: {
      configure: (app: INestApplication) => {
        (app as NestExpressApplication).use(express.text({ type: ['text/xml', 'application/xml'] }));
      },
    },
  },
  {
    name: 'Express with a raw parser for every body',
    options: {
      configure: (app: INestApplication) => {
        (app as NestExpressApplication).use(express.raw({ type: () => true }));
      },
    },
  },
  {
    name: 'Fastify with its own text/xml parser',
    options: {
      adapter: 'fastify',
      configure: (app: INestApplication) => {
        const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
        fastify.addContentTypeParser(
          ['text/xml', 'application/xml'],
          { parseAs: 'string' },
          (_request, body, done) => done(null, body),
        );
      },
    },
  },
];

describe('callback beside the app’s own body parsers', () => {
  const weixin = new FakeWeixin({}, false);

  for (const { name, options } of APPS) {
    it(`${name}: answers a safe-mode message`, async () => {
      const callback = await startCallbackApp(weixin.fake, {
        ...options,
        callback: { encodingAESKey: AES_KEY },
      });
      try {
        const delivery = await weixin.fake.deliver(
          `${callback.url}/weixin/callback`,
          { MsgType: 'text', Content: 'parsed', FromUserName: USER },
          { mode: 'safe', token: CALLBACK_TOKEN, encodingAESKey: AES_KEY, tries: 1 },
        );
        assert.equal(delivery.status, 200);
        assert.equal(delivery.reply?.Content, 'echo: parsed');
      } finally {
        await callback.close();
      }
    });
  }
});
