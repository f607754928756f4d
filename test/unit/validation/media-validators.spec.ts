/// <reference types="multer" />
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BadRequestException,
  Body,
  Controller,
  HttpException,
  type INestApplication,
  ParseFilePipe,
  Post,
  Query,
  UploadedFile,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import request from 'supertest';
import { UploadMediaDto } from '../../../lib/validation/upload-media.dto';
import { toHttpException } from '../../../lib/validation/media-validation-http';
import { MediaValidationError } from '../../../lib/errors/media-validation.error';
import type { MediaInspection, MediaType } from '../../../lib/interfaces/media.interface';
import { ParseWeixinMediaPipe } from '../../../lib/validation/parse-weixin-media.pipe';
import { weixinValidationExceptionFactory } from '../../../lib/validation/weixin-validation-exception.factory';
import { WeixinMediaFileValidator } from '../../../lib/validation/weixin-media-file.validator';
import { mediaFixture } from '../../support/paths';

const TOO_LONG = 'voice is 61.1 s; Weixin accepts at most 60 s';
const TOO_LARGE = 'thumb is 657.4 KB; Weixin accepts at most 64 KB';
const WAV = 'this is WAV audio; voice accepts AMR or MP3';
const MISSING = 'media data missing: no file was uploaded';

/** What Multer's memory storage hands a route. */
function memoryFile(name: string, originalname = name): Express.Multer.File {
  const buffer = readFileSync(mediaFixture(name));
  const multer = { fieldname: 'media', originalname, encoding: '7bit', mimetype: 'application/octet-stream' };
  return { ...multer, size: buffer.length, buffer } as Express.Multer.File;
}

/** What Multer's disk storage hands a route: the bytes at `path`, no buffer. */
function diskFile(path: string, originalname: string): Express.Multer.File {
  const multer = { fieldname: 'media', originalname, encoding: '7bit', mimetype: 'image/jpeg' };
  return { ...multer, size: readFileSync(path).length, path } as Express.Multer.File;
}

async function httpRejection(promise: Promise<unknown>): Promise<HttpException> {
  const error = await promise.then(
    () => assert.fail('expected an HttpException'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof HttpException, `expected an HttpException, got ${String(error)}`);
  return error;
}

describe('toHttpException', () => {
  it('answers 413 for too-large and 400 for every other rule, with a Weixin-shaped body', () => {
    const message = 'thumb is 70.2 KB; Weixin accepts at most 64 KB';
    const tooLarge = toHttpException(new MediaValidationError('too-large', message));
    assert.equal(tooLarge.getStatus(), 413);
    assert.deepEqual(tooLarge.getResponse(), { errcode: 40006, errmsg: message });
    for (const reason of ['invalid-type', 'empty', 'unsupported-format', 'too-long', 'unreadable'] as const) {
      const exception = toHttpException(new MediaValidationError(reason, 'rule broken'));
      assert.equal(exception.getStatus(), 400, reason);
      assert.deepEqual(Object.keys(exception.getResponse() as object), ['errcode', 'errmsg']);
    }
  });
});

describe('WeixinMediaFileValidator in a ParseFilePipe', () => {
  const pipe = (type: MediaType, options: { throwHttpException?: boolean } = {}) =>
    new ParseFilePipe({ validators: [new WeixinMediaFileValidator({ type, ...options })] });

  it('passes a file that meets the rules', async () => {
    const file = memoryFile('voice-speech.mp3');
    assert.equal(await pipe('voice').transform(file), file);
    const byType = new ParseFilePipe({ validators: [new WeixinMediaFileValidator('image')] });
    assert.ok(await byType.transform(memoryFile('spoof-png-named.jpg')));
  });

  it('answers 400 with { errcode, errmsg } for a broken rule', async () => {
    const error = await httpRejection(pipe('voice').transform(memoryFile('voice-61s.mp3')));
    assert.equal(error.getStatus(), 400);
    assert.deepEqual(error.getResponse(), { errcode: 40005, errmsg: TOO_LONG });
  });

  it('answers 413 for a file too large', async () => {
    const error = await httpRejection(pipe('thumb').transform(memoryFile('thumb-too-large.jpg')));
    assert.equal(error.getStatus(), 413);
    assert.deepEqual(error.getResponse(), { errcode: 40006, errmsg: TOO_LARGE });
  });

  it('judges the content, not the name or mimetype', async () => {
    const error = await httpRejection(pipe('image').transform(memoryFile('spoof-exe.png')));
    assert.deepEqual(error.getResponse(), {
      errcode: 40005,
      errmsg: 'this is a Windows executable (EXE/DLL); image accepts PNG, JPEG or GIF',
    });
  });

  it('reads a file from disk storage by its path', async () => {
    assert.ok(await pipe('thumb').transform(diskFile(mediaFixture('thumb.jpg'), 'thumb.jpg')));
    const png = diskFile(mediaFixture('image.png'), 'image.jpg');
    const error = await httpRejection(pipe('thumb').transform(png));
    assert.equal((error.getResponse() as { errcode: number }).errcode, 40005);
  });

  it('checks every file of an array', async () => {
    await httpRejection(pipe('image').transform([memoryFile('image.png'), memoryFile('spoof-random.jpg')]));
    assert.ok(await pipe('image').transform([memoryFile('image.png'), memoryFile('image.gif')]));
  });

  it('with throwHttpException: false answers false and leaves the exception to the pipe', async () => {
    const validator = new WeixinMediaFileValidator({ type: 'voice', throwHttpException: false });
    const file = memoryFile('voice-speech.wav');
    assert.equal(await validator.isValid(file), false);
    assert.equal(validator.buildErrorMessage(file), WAV);
    const error = await httpRejection(pipe('voice', { throwHttpException: false }).transform(file));
    assert.ok(error instanceof BadRequestException);
    assert.equal((error.getResponse() as { message: string }).message, WAV);
  });

  it('leaves a missing file to ParseFilePipe (fileIsRequired)', async () => {
    assert.equal(await new WeixinMediaFileValidator('voice').isValid(undefined), true);
    const error = await httpRejection(pipe('voice').transform(undefined));
    assert.equal(error.getStatus(), 400);
  });

  it('refuses to be built without a media type', () => {
    const build = () => new WeixinMediaFileValidator('audio' as never);
    assert.throws(build, /needs a media type \(image, voice, video, thumb\); got "audio"/);
  });
});

describe('ParseWeixinMediaPipe', () => {
  it('turns a Multer file into a MediaInspection', async () => {
    const inspection = await new ParseWeixinMediaPipe('voice').transform(memoryFile('voice-speech.amr'));
    assert.deepEqual(inspection, { type: 'voice', format: 'amr', bytes: 2231, durationMs: 3460 });
    const gif = diskFile(mediaFixture('image.gif'), 'a.gif');
    const fromDisk = await new ParseWeixinMediaPipe({ type: 'image' }).transform(gif);
    assert.deepEqual(fromDisk, { type: 'image', format: 'gif', bytes: 363 });
  });

  it('answers 400/413 with { errcode, errmsg }', async () => {
    const voice = new ParseWeixinMediaPipe('voice');
    const tooLong = await httpRejection(voice.transform(memoryFile('voice-61s.amr')));
    assert.equal(tooLong.getStatus(), 400);
    const tooLongMessage = 'voice is 61.0 s; Weixin accepts at most 60 s';
    assert.deepEqual(tooLong.getResponse(), { errcode: 40005, errmsg: tooLongMessage });
    const thumb = new ParseWeixinMediaPipe('thumb');
    const tooLarge = await httpRejection(thumb.transform(memoryFile('thumb-too-large.jpg')));
    assert.equal(tooLarge.getStatus(), 413);
    const empty = await httpRejection(new ParseWeixinMediaPipe('image').transform(memoryFile('empty.jpg')));
    const emptyMessage = "image is empty (0 bytes); send the file's content";
    assert.deepEqual(empty.getResponse(), { errcode: 40006, errmsg: emptyMessage });
  });

  it('answers 41005 "media data missing" without a file, unless the file is optional', async () => {
    const missing = await httpRejection(new ParseWeixinMediaPipe('image').transform(undefined));
    assert.equal(missing.getStatus(), 400);
    assert.deepEqual(missing.getResponse(), { errcode: 41005, errmsg: MISSING });
    const optional = new ParseWeixinMediaPipe({ type: 'image', fileIsRequired: false });
    assert.equal(await optional.transform(undefined), undefined);
  });

  it('refuses to be built without a media type', () => {
    assert.throws(() => new ParseWeixinMediaPipe(), /ParseWeixinMediaPipe needs a media type/);
  });

  it('answers a file that is gone with 404 and errcode 404, not a broken rule, and no server path', async () => {
    const stored = { fieldname: 'media', originalname: 'a.jpg', mimetype: 'image/jpeg', size: 10 };
    const gone = { ...stored, path: '/nonexistent/upload-1234' } as Express.Multer.File;
    const fromPipe = await httpRejection(new ParseWeixinMediaPipe('image').transform(gone));
    assert.equal(fromPipe.getStatus(), 404);
    assert.deepEqual(fromPipe.getResponse(), {
      errcode: 404,
      errmsg: 'the media source cannot be read (ENOENT)',
    });
    const fromValidator = await httpRejection(new WeixinMediaFileValidator({ type: 'image' }).isValid(gone));
    assert.deepEqual(fromValidator.getResponse(), fromPipe.getResponse());
    const directory = { ...stored, path: tmpdir() } as Express.Multer.File;
    const unreadable = await httpRejection(new ParseWeixinMediaPipe('image').transform(directory));
    assert.equal(unreadable.getStatus(), 400);
    assert.equal((unreadable.getResponse() as { errcode: number }).errcode, 400);
  });
});

describe('UploadMediaDto', () => {
  it('accepts the four types', async () => {
    for (const type of ['image', 'voice', 'video', 'thumb']) {
      assert.deepEqual(await validate(plainToInstance(UploadMediaDto, { type })), []);
    }
  });

  it('explains a wrong or missing type', async () => {
    const [wrong] = await validate(plainToInstance(UploadMediaDto, { type: 'audio' }));
    assert.deepEqual(Object.values(wrong.constraints ?? {}), [
      `type must be one of image, voice, video, thumb (Weixin's temporary media types); got "audio"`,
    ]);
    const [missing] = await validate(plainToInstance(UploadMediaDto, {}));
    assert.deepEqual(Object.values(missing.constraints ?? {}), [
      `type must be one of image, voice, video, thumb (Weixin's temporary media types); it is missing`,
    ]);
  });

  it('becomes 400 { errcode: 40004 } through weixinValidationExceptionFactory', async () => {
    const errors = await validate(plainToInstance(UploadMediaDto, { type: 'file' }));
    const exception = weixinValidationExceptionFactory(errors);
    assert.equal(exception.getStatus(), 400);
    assert.deepEqual(exception.getResponse(), {
      errcode: 40004,
      errmsg: `type must be one of image, voice, video, thumb (Weixin's temporary media types); got "file"`,
    });
  });
});

describe('in a Nest app over HTTP', () => {
  const voiceFilePipe = new ParseFilePipe({ validators: [new WeixinMediaFileValidator('voice')] });
  const typeQueryPipe = new ValidationPipe({ exceptionFactory: weixinValidationExceptionFactory });

  @Controller('media')
  class MediaController {
    @Post('voice')
    @UseInterceptors(FileInterceptor('media'))
    voice(@UploadedFile(voiceFilePipe) file: Express.Multer.File) {
      return { accepted: file.originalname };
    }

    @Post('inspect')
    @UseInterceptors(FileInterceptor('media'))
    async inspect(
      @Query(typeQueryPipe) query: UploadMediaDto,
      @UploadedFile() file: Express.Multer.File,
    ): Promise<MediaInspection | undefined> {
      return new ParseWeixinMediaPipe(query.type).transform(file);
    }

    @Post('thumb')
    @UseInterceptors(FileInterceptor('media'))
    thumb(@Body() _body: unknown, @UploadedFile(new ParseWeixinMediaPipe('thumb')) media: MediaInspection) {
      return media;
    }
  }

  let app: INestApplication;
  let dir: string;
  const post = (path: string) => request(app.getHttpServer()).post(path);

  before(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [MediaController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    dir = mkdtempSync(join(tmpdir(), 'media-validators-'));
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('201 for a good voice through ParseFilePipe + WeixinMediaFileValidator', async () => {
    const response = await post('/media/voice').attach('media', mediaFixture('voice-speech.mp3'));
    assert.equal(response.status, 201);
    assert.deepEqual(response.body, { accepted: 'voice-speech.mp3' });
  });

  it('400 { errcode, errmsg } for a voice over 60 s', async () => {
    const response = await post('/media/voice').attach('media', mediaFixture('voice-61s.mp3'));
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, { errcode: 40005, errmsg: TOO_LONG });
  });

  it('400 for WAV named .mp3 with an audio/mpeg content type', async () => {
    const wav = readFileSync(mediaFixture('voice-speech.wav'));
    const disguise = { filename: 'speech.mp3', contentType: 'audio/mpeg' };
    const response = await post('/media/voice').attach('media', wav, disguise);
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, { errcode: 40005, errmsg: WAV });
  });

  it('413 { errcode, errmsg } for a thumb over 64 KB through ParseWeixinMediaPipe', async () => {
    const response = await post('/media/thumb').attach('media', mediaFixture('thumb-too-large.jpg'));
    assert.equal(response.status, 413);
    assert.deepEqual(response.body, { errcode: 40006, errmsg: TOO_LARGE });
  });

  it('201 with the MediaInspection for a good thumb', async () => {
    const response = await post('/media/thumb').attach('media', mediaFixture('thumb.jpg'));
    assert.equal(response.status, 201);
    assert.deepEqual(response.body, { type: 'thumb', format: 'jpeg', bytes: 519 });
  });

  it('400 { errcode: 41005 } without a file', async () => {
    const response = await post('/media/thumb').field('note', 'no file');
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, { errcode: 41005, errmsg: MISSING });
  });

  it('400 { errcode: 40004 } for a wrong ?type through UploadMediaDto', async () => {
    const response = await post('/media/inspect?type=audio').attach('media', mediaFixture('image.png'));
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      errcode: 40004,
      errmsg: `type must be one of image, voice, video, thumb (Weixin's temporary media types); got "audio"`,
    });
  });

  it('201 for ?type=image with PNG bytes named .jpg', async () => {
    const path = join(dir, 'photo.jpg');
    writeFileSync(path, readFileSync(mediaFixture('image.png')));
    const response = await post('/media/inspect?type=image').attach('media', path);
    assert.equal(response.status, 201);
    assert.deepEqual(response.body, { type: 'image', format: 'png', bytes: 1337 });
  });
});
