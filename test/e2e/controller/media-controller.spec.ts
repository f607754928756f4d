import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  Module,
  UnauthorizedException,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import request from 'supertest';
import {
  MEDIA_LIFETIME_MS,
  WeixinMediaModule,
  WeixinMediaOptionsError,
  type WeixinMediaControllerOptions,
} from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import {
  type ControllerApp,
  createHttpAdapter,
  HTTP_ADAPTERS,
  startControllerApp,
} from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';
import { optionsFor } from '../../support/testing-module';

const UPLOAD = '/cgi-bin/media/upload';
const DOWNLOAD = '/cgi-bin/media/get';
const LIFETIME_S = MEDIA_LIFETIME_MS / 1000;

/** The guard of the README: the caller must send the API key. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const key = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[
      'x-api-key'
    ];
    if (key !== 'let-me-in') throw new UnauthorizedException('a valid x-api-key header is required');
    return true;
  }
}

/** A guard with a dependency: Nest creates it inside WeixinMediaModule, from what that module imports. */
@Injectable()
class KeyStore {
  has(key: string | undefined): boolean {
    return key === 'key-1';
  }
}

@Module({ providers: [KeyStore], exports: [KeyStore] })
class KeysModule {}

@Injectable()
class KeyStoreGuard implements CanActivate {
  constructor(private readonly keys: KeyStore) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined> }>().headers;
    if (!this.keys.has(header.authorization?.replace(/^Bearer /, ''))) throw new UnauthorizedException();
    return true;
  }
}

function assertWeixinError(body: unknown, errcode: number): void {
  assert.deepEqual(Object.keys(body as object).sort(), ['errcode', 'errmsg']);
  const { errcode: actual, errmsg } = body as { errcode: number; errmsg: string };
  assert.equal(actual, errcode, `errcode ${actual} (${errmsg})`);
  assert.equal(typeof errmsg, 'string');
  assert.ok(errmsg.length > 0);
  assert.doesNotMatch(errmsg, /\n\s+at /, 'no stack trace');
}

function assertUploadBody(body: Record<string, unknown>, type: string): void {
  assert.deepEqual(Object.keys(body).sort(), ['created_at', 'expires_at', 'media_id', 'type']);
  assert.equal(body.type, type);
  assert.equal(typeof body.media_id, 'string');
  assert.ok(Number.isInteger(body.created_at));
  assert.ok(Math.abs((body.created_at as number) - Date.now() / 1000) < 60, 'created_at is in seconds, now');
  assert.equal(body.expires_at, (body.created_at as number) + LIFETIME_S);
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`media controller (${adapter})`, () => {
    let fake: FakeWeixinServer;

    before(async () => {
      fake = await FakeWeixinServer.start();
    });
    after(() => fake.close());
    afterEach(() => fake.clearFaults());

    describe('public: true, default path', () => {
      let ctx: ControllerApp;
      before(async () => {
        ctx = await startControllerApp(fake, { adapter, controller: { public: true } });
      });
      after(() => ctx.close());
      afterEach(() => assert.deepEqual(ctx.tempFiles(), [], 'every temp file is removed'));

      const uploads = [
        { type: 'image', file: 'image.jpg' },
        { type: 'image', file: 'image.png' },
        { type: 'voice', file: 'voice-speech.mp3' },
        { type: 'voice', file: 'voice-speech.amr' },
        { type: 'video', file: 'video-clip.mp4' },
        { type: 'thumb', file: 'thumb.jpg' },
      ];
      for (const { type, file } of uploads) {
        it(`uploads ${file} as ${type}: 201 { type, media_id, created_at, expires_at }`, async () => {
          const before = fake.countRequests(UPLOAD);
          const res = await request(ctx.url)
            .post('/weixin/media')
            .query({ type })
            .attach('media', mediaFixture(file))
            .expect(201);
          assert.match(String(res.headers['content-type']), /^application\/json/);
          assertUploadBody(res.body, type);
          if (fake.countRequests(UPLOAD) > before) {
            const sent = fake.requests.filter((r) => r.path === UPLOAD).at(-1)!;
            assert.equal(sent.mediaType, type);
            assert.equal(sent.filename, file, 'Weixin gets the client filename');
          }
        });
      }

      it('takes the type from a form field when the URL has none', async () => {
        const res = await request(ctx.url)
          .post('/weixin/media')
          .field('type', 'thumb')
          .attach('media', mediaFixture('thumb.jpg'), 'cover.jpg')
          .expect(201);
        assertUploadBody(res.body, 'thumb');
      });

      it('takes the form field type after the file too, and the same type in both places', async () => {
        const res = await request(ctx.url)
          .post('/weixin/media?type=voice')
          .attach('media', mediaFixture('voice-speech.mp3'), 'hello.mp3')
          .field('type', 'voice')
          .expect(201);
        assertUploadBody(res.body, 'voice');
      });

      it('answers the reused media_id for identical content without a second Weixin upload', async () => {
        const first = await request(ctx.url)
          .post('/weixin/media?type=image')
          .attach('media', mediaFixture('image.gif'));
        assert.equal(first.status, 201);
        const count = fake.countRequests(UPLOAD);
        const second = await request(ctx.url)
          .post('/weixin/media?type=image')
          .attach('media', mediaFixture('image.gif'));
        assert.equal(second.status, 201);
        assert.equal(second.body.media_id, first.body.media_id);
        assert.equal(fake.countRequests(UPLOAD), count);
      });

      it('works with curl, exactly as against Weixin', async (t) => {
        const run = promisify(execFile);
        let stdout: string;
        try {
          ({ stdout } = await run('curl', [
            '-sS',
            '-F',
            `media=@${mediaFixture('video-clip.mp4')}`,
            `${ctx.url}/weixin/media?type=video`,
          ]));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return t.skip('curl is not installed');
          throw error;
        }
        assertUploadBody(JSON.parse(stdout), 'video');
      });

      it('streams a download back with its content type and a safe attachment filename', async () => {
        const jpeg = readFileSync(mediaFixture('image.jpg'));
        const uploaded = await request(ctx.url)
          .post('/weixin/media?type=image')
          .attach('media', mediaFixture('image.jpg'));
        const mediaId = uploaded.body.media_id as string;
        const res = await request(ctx.url)
          .get(`/weixin/media/${mediaId}`)
          .buffer(true)
          .parse((response, callback) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => callback(null, Buffer.concat(chunks)));
          })
          .expect(200);
        assert.equal(res.headers['content-type'], 'image/jpeg');
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal(res.headers['content-disposition'], `attachment; filename="${mediaId}.jpg"`);
        assert.ok(Buffer.compare(res.body as Buffer, jpeg) === 0, 'the same bytes');
      });

      it('answers { video_url } for a video', async () => {
        const uploaded = await request(ctx.url)
          .post('/weixin/media?type=video')
          .attach('media', mediaFixture('video-clip.mp4'));
        const res = await request(ctx.url).get(`/weixin/media/${uploaded.body.media_id}`).expect(200);
        assert.deepEqual(Object.keys(res.body), ['video_url']);
        assert.match(res.body.video_url, /^http:\/\//);
      });

      it('answers 404 { errcode: 40007 } for an unknown or malformed media_id', async () => {
        const unknown = await request(ctx.url).get('/weixin/media/no-such-media-id').expect(404);
        assertWeixinError(unknown.body, 40007);
        const before = fake.countRequests(DOWNLOAD);
        const malformed = await request(ctx.url)
          .get(`/weixin/media/${encodeURIComponent('bad id"\r\n')}`)
          .expect(404);
        assertWeixinError(malformed.body, 40007);
        assert.equal(fake.countRequests(DOWNLOAD), before, 'a malformed id never reaches Weixin');
      });
    });

    describe('Weixin failures (no reuse cache, 150 ms timeout)', () => {
      let ctx: ControllerApp;
      before(async () => {
        ctx = await startControllerApp(fake, { adapter, module: { timeoutMs: 150, mediaCache: false } });
      });
      after(() => ctx.close());

      it('answers 504 { errcode: -1 } when Weixin does not answer in time, and removes the temp file', async () => {
        fake.injectFault({ path: UPLOAD, delayMs: 1000, times: 2 });
        const res = await request(ctx.url)
          .post('/weixin/media?type=image')
          .attach('media', mediaFixture('image.jpg'));
        assert.equal(res.status, 504);
        assertWeixinError(res.body, -1);
        assert.deepEqual(ctx.tempFiles(), []);
      });

      it("answers 502 and keeps Weixin's errcode for every refusal, and removes the temp file", async () => {
        for (const errcode of [40164, 45009, 48001]) {
          fake.injectFault({ path: UPLOAD, errcode });
          const res = await request(ctx.url)
            .post('/weixin/media?type=image')
            .attach('media', mediaFixture('image.jpg'));
          assert.equal(res.status, 502);
          assertWeixinError(res.body, errcode);
        }
        fake.injectFault({ path: UPLOAD, status: 500, times: 2 });
        const busy = await request(ctx.url)
          .post('/weixin/media?type=image')
          .attach('media', mediaFixture('image.jpg'));
        assert.equal(busy.status, 502);
        assertWeixinError(busy.body, -1);
        assert.deepEqual(ctx.tempFiles(), []);
      });
    });

    describe('guards', () => {
      it('applies a guard class to both routes: 401 without the key, 201/200 with it', async () => {
        const ctx = await startControllerApp(fake, { adapter, controller: { guards: [ApiKeyGuard] } });
        try {
          const before = fake.countRequests();
          const refused = await request(ctx.url)
            .post('/weixin/media?type=image')
            .attach('media', mediaFixture('image.jpg'));
          assert.equal(refused.status, 401);
          // The guard's answer, not Weixin's token error 41001: errcode is the status, the message the guard's.
          assertWeixinError(refused.body, 401);
          assert.match(refused.body.errmsg, /x-api-key/);
          const refusedGet = await request(ctx.url).get('/weixin/media/some-id');
          assert.equal(refusedGet.status, 401);
          assertWeixinError(refusedGet.body, 401);
          assert.equal(fake.countRequests(), before, 'a refused caller never causes a Weixin call');

          const ok = await request(ctx.url)
            .post('/weixin/media?type=image')
            .set('x-api-key', 'let-me-in')
            .attach('media', mediaFixture('image.jpg'))
            .expect(201);
          const download = await request(ctx.url)
            .get(`/weixin/media/${ok.body.media_id}`)
            .set('x-api-key', 'let-me-in');
          assert.equal(download.status, 200);
          assert.deepEqual(ctx.tempFiles(), []);
        } finally {
          await ctx.close();
        }
      });

      it('applies a guard instance: 403 when it says no, a thrown ForbiddenException keeps its message', async () => {
        const denyAll: CanActivate = { canActivate: () => false };
        const ctx = await startControllerApp(fake, { adapter, controller: { guards: [denyAll] } });
        try {
          const res = await request(ctx.url)
            .post('/weixin/media?type=image')
            .attach('media', mediaFixture('image.jpg'));
          assert.equal(res.status, 403);
          assertWeixinError(res.body, 403);
        } finally {
          await ctx.close();
        }
        const throwing: CanActivate = {
          canActivate: () => {
            throw new ForbiddenException({ errcode: 48001, errmsg: 'uploads are closed on Sundays' });
          },
        };
        const ctx2 = await startControllerApp(fake, { adapter, controller: { guards: [throwing] } });
        try {
          const res = await request(ctx2.url).get('/weixin/media/anything');
          assert.equal(res.status, 403);
          assert.deepEqual(res.body, { errcode: 48001, errmsg: 'uploads are closed on Sundays' });
        } finally {
          await ctx2.close();
        }
      });

      it('mounts at a custom path', async () => {
        const ctx = await startControllerApp(fake, {
          adapter,
          controller: { path: '/api/wx-media/', public: true },
        });
        try {
          const res = await request(ctx.url)
            .post('/api/wx-media?type=thumb')
            .attach('media', mediaFixture('thumb.jpg'));
          assert.equal(res.status, 201);
          assertUploadBody(res.body, 'thumb');
          await request(ctx.url)
            .post('/weixin/media?type=thumb')
            .attach('media', mediaFixture('thumb.jpg'))
            .expect(404);
        } finally {
          await ctx.close();
        }
      });
    });

    describe('secure by default', () => {
      const settings = () => optionsFor(fake);

      const unguarded: Array<[string, WeixinMediaControllerOptions]> = [
        ['controller: {}', {}],
        ['guards: []', { guards: [] }],
        ['public: false', { public: false }],
      ];
      for (const [label, controller] of unguarded) {
        it(`fails bootstrap (not forRoot) with ${label}, saying how to fix it`, async () => {
          const dynamicModule = WeixinMediaModule.forRoot({ ...settings(), controller });
          await assert.rejects(
            Test.createTestingModule({ imports: [dynamicModule] }).compile(),
            (error: unknown) => {
              assert.ok(error instanceof WeixinMediaOptionsError);
              assert.match(error.message, /controller is enabled without guards/);
              assert.match(error.message, /controller\.guards/);
              assert.match(error.message, /controller\.public: true/);
              return true;
            },
          );
        });
      }

      it('fails bootstrap listing every malformed controller option', async () => {
        const dynamicModule = WeixinMediaModule.forRoot({
          ...settings(),
          controller: { path: '', guards: ['nope' as never], public: 'yes' as never },
        });
        await assert.rejects(
          Test.createTestingModule({ imports: [dynamicModule] }).compile(),
          (error: unknown) => {
            assert.ok(error instanceof WeixinMediaOptionsError);
            assert.match(error.message, /controller\.path/);
            assert.match(error.message, /controller\.public must be true or false/);
            assert.match(error.message, /controller\.guards\[0\] is not a guard/);
            return true;
          },
        );
      });

      it('mounts nothing without controller', async () => {
        const ctx = await startControllerApp(fake, { adapter, controller: false });
        try {
          await request(ctx.url)
            .post('/weixin/media?type=image')
            .attach('media', mediaFixture('image.jpg'))
            .expect(404);
        } finally {
          await ctx.close();
        }
      });
    });

    describe('forRootAsync', () => {
      it('mounts the controller with options from a factory', async () => {
        const ctx = await startControllerApp(fake, {
          adapter,
          async: true,
          controller: { guards: [ApiKeyGuard] },
        });
        try {
          await request(ctx.url)
            .post('/weixin/media?type=image')
            .attach('media', mediaFixture('image.png'))
            .expect(401);
          const res = await request(ctx.url)
            .post('/weixin/media?type=image')
            .set('x-api-key', 'let-me-in')
            .attach('media', mediaFixture('image.png'))
            .expect(201);
          assertUploadBody(res.body, 'image');
        } finally {
          await ctx.close();
        }
      });

      it("resolves a guard class's dependencies from the modules given in imports", async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [
            WeixinMediaModule.forRootAsync({
              imports: [KeysModule],
              useFactory: () => optionsFor(fake),
              controller: { guards: [KeyStoreGuard] },
            }),
          ],
        }).compile();
        const app = moduleRef.createNestApplication(createHttpAdapter(adapter), { logger: false });
        await app.listen(0, '127.0.0.1');
        try {
          const url = await app.getUrl();
          await request(url)
            .post('/weixin/media?type=thumb')
            .attach('media', mediaFixture('thumb.jpg'))
            .expect(401);
          await request(url)
            .post('/weixin/media?type=thumb')
            .set('authorization', 'Bearer key-1')
            .attach('media', mediaFixture('thumb.jpg'))
            .expect(201);
        } finally {
          await app.close();
        }
      });

      it('fails bootstrap without guards or public: true', async () => {
        const dynamicModule = WeixinMediaModule.forRootAsync({
          useFactory: () => optionsFor(fake),
          controller: {},
        });
        await assert.rejects(
          Test.createTestingModule({ imports: [dynamicModule] }).compile(),
          WeixinMediaOptionsError,
        );
      });
    });
  });
}
