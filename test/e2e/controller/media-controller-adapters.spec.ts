import {
  Controller,
  Get,
  HttpException,
  type INestApplication,
  Post,
  UploadedFile,
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  type MediaInspection,
  MediaUploadInterceptor,
  MediaValidationError,
  ParseWeixinMediaPipe,
  WeixinMediaExceptionFilter,
  WeixinMediaModule,
  WeixinMediaOptionsError,
} from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import { assertWeixinError } from '../../support/controller-bad-input';
import { HTTP_ADAPTERS, startControllerApp, startOwnRoutesApp } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

/** Routes of the application's own, using the library's pieces. */
@Controller('own')
class OwnController {
  @Post('voice')
  @UseInterceptors(MediaUploadInterceptor)
  @UseFilters(WeixinMediaExceptionFilter)
  voice(@UploadedFile(new ParseWeixinMediaPipe('voice')) media: MediaInspection): MediaInspection {
    return media;
  }

  @Get('teapot')
  teapot(): never {
    throw new HttpException({ statusCode: 418, message: 'short and stout' }, 418);
  }

  @Get('rule')
  rule(): never {
    throw new MediaValidationError('empty', "image is empty (0 bytes); send the file's content");
  }
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`media pieces on routes of the app's own, global filter (${adapter})`, () => {
    let fake: FakeWeixinServer;
    let app: INestApplication;
    let url: string;

    before(async () => {
      fake = await FakeWeixinServer.start();
      ({ app, url } = await startOwnRoutesApp(fake, { adapter, controllers: [OwnController] }));
    });
    after(async () => {
      await app.close();
      await fake.close();
    });

    it('MediaUploadInterceptor hands the file to ParseWeixinMediaPipe', async () => {
      const res = await request(url)
        .post('/own/voice?type=voice')
        .attach('media', mediaFixture('voice-speech.mp3'));
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.format, 'mp3');
      assert.equal(res.body.type, 'voice');
    });

    it("the pipe answers a broken rule in Weixin's shape, with the rules' own words", async () => {
      const res = await request(url)
        .post('/own/voice?type=voice')
        .attach('media', mediaFixture('voice-61s.mp3'));
      assertWeixinError(
        { status: res.status, body: res.body },
        400,
        40005,
        /^voice is 61\.\d+ s; Weixin accepts at most 60 s$/,
      );
    });

    it("leaves the app's other errors as Nest answers them", async () => {
      const teapot = await request(url).get('/own/teapot');
      assert.equal(teapot.status, 418);
      assert.deepEqual(teapot.body, { statusCode: 418, message: 'short and stout' });
      const unknown = await request(url).get('/nope');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.statusCode, 404);
    });

    it("answers the library's own errors in Weixin's shape anywhere", async () => {
      const res = await request(url).get('/own/rule');
      assertWeixinError({ status: res.status, body: res.body }, 400, 40006, /image is empty/);
    });
  });
}

describe("media controller beside the app's own @fastify/multipart", () => {
  let fake: FakeWeixinServer;
  before(async () => {
    fake = await FakeWeixinServer.start();
  });
  after(() => fake.close());

  it('uploads through the controller and leaves the app its multipart parser', async () => {
    const ctx = await startControllerApp(fake, {
      adapter: 'fastify',
      configure: async (app) => {
        const multipart = require('@fastify/multipart');
        await (app as NestFastifyApplication).register(multipart);
      },
    });
    try {
      const res = await request(ctx.url)
        .post('/weixin/media?type=image')
        .attach('media', mediaFixture('image.jpg'));
      assert.equal(res.status, 201, res.text);
      assert.equal(typeof res.body.media_id, 'string');
      assert.deepEqual(ctx.tempFiles(), []);
    } finally {
      await ctx.close();
    }
  });
});

describe('an HTTP adapter the controller cannot serve', () => {
  it('fails bootstrap naming the adapter', async () => {
    class PlainAdapter extends ExpressAdapter {
      override getType(): string {
        return 'plain';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        WeixinMediaModule.forRoot({
          appId: 'wx-app',
          appSecret: 'secret-value',
          apiBaseUrl: 'http://127.0.0.1:9',
          controller: { public: true },
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication(new PlainAdapter(), { logger: false });
    await assert.rejects(app.init(), (error: unknown) => {
      assert.ok(error instanceof WeixinMediaOptionsError, String(error));
      assert.match(error.message, /PlainAdapter \(getType\(\) "plain"\)/);
      assert.match(error.message, /ExpressAdapter or FastifyAdapter/);
      return true;
    });
    await app.close().catch(() => undefined);
  });
});
