import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MediaFitError,
  MediaSourceError,
  MediaValidationError,
  toHttpException,
  UnknownAccountError,
  WeixinApiError,
  WeixinMediaExceptionFilter,
  WeixinMediaOptionsError,
  WeixinNetworkError,
  WeixinStoreError,
} from '../../../lib';
import {
  UploadAbortedError,
  UploadBodyTooLargeError,
  UploadFormError,
  UploadTimeoutError,
} from '../../../lib/errors/upload-errors';
import { weixinErrorResponse, type WeixinErrorResponse } from '../../../lib/errors/weixin-error-response';

const UPLOAD = '/cgi-bin/media/upload';

/** Every library error a client may be answered with, and Weixin's answer for it. */
const ANSWERS: Array<[Error, number, number, string | RegExp]> = [
  [new MediaValidationError('too-large', 'thumb is 70 KB'), 413, 40006, 'thumb is 70 KB'],
  [new MediaValidationError('too-long', 'voice is 61 s'), 400, 40005, 'voice is 61 s'],
  [new MediaValidationError('invalid-type', 'type must be ...'), 400, 40004, 'type must be ...'],
  [new MediaSourceError('ENOENT', '/srv/secret/a.jpg'), 404, 404, 'the media source cannot be read (ENOENT)'],
  [
    new MediaSourceError('ECONNREFUSED', 'http://x/a'),
    400,
    400,
    'the media source cannot be read (ECONNREFUSED)',
  ],
  [new MediaFitError('input-too-large', 'over 50 MB', { limit: 1, actual: 2 }), 413, 40006, 'over 50 MB'],
  [new MediaFitError('engine-missing', 'install ffmpeg'), 501, 501, 'install ffmpeg'],
  [new MediaFitError('failed', 'ffmpeg failed'), 400, 40005, 'ffmpeg failed'],
  [new WeixinApiError(40007, 'invalid media_id', '/cgi-bin/media/get'), 404, 40007, 'invalid media_id'],
  [new WeixinApiError(45009, 'reach max api daily quota limit', UPLOAD), 502, 45009, /daily quota/],
  [new UnknownAccountError('wx0000000000000000'), 404, 40013, /^invalid appid: No Official Account/],
  [new WeixinNetworkError('slow', UPLOAD, undefined, 'ETIMEDOUT'), 504, -1, /did not answer in time/],
  [new WeixinNetworkError('reset', UPLOAD, undefined, 'ECONNRESET'), 502, -1, /reached \(ECONNRESET\)/],
  [new WeixinNetworkError('HTTP 503', UPLOAD, 503), 502, -1, /reached \(HTTP 503\)/],
  [
    new UploadFormError('the form has too many parts'),
    400,
    41005,
    'media data missing: the form has too many parts',
  ],
  [new UploadBodyTooLargeError('the form passed 8 KB', 8192, 9000), 413, 40006, 'the form passed 8 KB'],
  [
    new UploadTimeoutError('the upload sent no data for 30 s'),
    408,
    41005,
    /^media data missing: the upload sent/,
  ],
  [new UploadAbortedError(), 400, 41005, 'media data missing: the client closed the connection'],
];

/** The filter's answer, through its overridable hook. */
class ExposedFilter extends WeixinMediaExceptionFilter {
  answer(exception: unknown): WeixinErrorResponse {
    return this.toWeixinError(exception);
  }
}

describe('weixinErrorResponse: the one mapping from library errors to Weixin-shaped HTTP answers', () => {
  it('answers every client-facing library error with its status, errcode and message', () => {
    for (const [error, status, errcode, errmsg] of ANSWERS) {
      const answer = weixinErrorResponse(error);
      assert.ok(answer, error.name);
      assert.equal(answer.status, status, `${error.name}: ${error.message}`);
      assert.equal(answer.body.errcode, errcode, `${error.name}: ${error.message}`);
      if (typeof errmsg === 'string') assert.equal(answer.body.errmsg, errmsg);
      else assert.match(answer.body.errmsg, errmsg);
      assert.doesNotMatch(answer.body.errmsg, /\/srv\/secret/);
    }
  });

  it('leaves the server-side faults unanswered: they are logged and answered 500 by the filter', () => {
    const filter = new ExposedFilter();
    for (const error of [
      new WeixinStoreError('token store set', 'READONLY replica', 'READONLY'),
      new WeixinMediaOptionsError(['appId is missing']),
      new Error('ENOSPC'),
    ]) {
      assert.equal(weixinErrorResponse(error), undefined, error.name);
      assert.deepEqual(filter.answer(error), {
        status: 500,
        body: { errcode: -1, errmsg: 'internal error' },
      });
    }
  });

  it('is what the exception filter and toHttpException (the pipes, the validator) both answer', () => {
    const filter = new ExposedFilter();
    for (const [error] of ANSWERS) {
      const expected = weixinErrorResponse(error);
      assert.deepEqual(filter.answer(error), expected, error.name);
      if (
        error instanceof MediaValidationError ||
        error instanceof MediaSourceError ||
        error instanceof MediaFitError
      ) {
        const exception = toHttpException(error);
        assert.deepEqual({ status: exception.getStatus(), body: exception.getResponse() }, expected);
        assert.equal(exception.cause, error);
      }
    }
  });
});
