import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccountResolverTimeoutError,
  CallbackRefusedError,
  MediaFitError,
  MediaSourceError,
  MediaValidationError,
  UnknownAccountError,
  WeixinApiError,
  WeixinMediaError,
  WeixinMediaOptionsError,
  WeixinNetworkError,
  WeixinDownloadTooLargeError,
  WeixinStoreError,
} from '../../../lib';
import { DamagedMediaError } from '../../../lib/errors/damaged-media.error';
import { OtherFormatError } from '../../../lib/errors/other-format.error';
import {
  UploadAbortedError,
  UploadBodyTooLargeError,
  UploadFormError,
  UploadTimeoutError,
} from '../../../lib/errors/upload-errors';
import { inspectMediaContent } from '../../../lib/media-rules/inspect-media';
import { bufferContent } from '../../../lib/media-rules/media-content';

/** One error of every class, with the code it must keep across versions. */
const EVERY_ERROR: Array<[WeixinMediaError, string]> = [
  [new MediaValidationError('too-large', 'thumb is 70 KB'), 'WEIXIN_MEDIA_ERR_VALIDATION'],
  [new MediaFitError('timeout', 'ffmpeg ran too long'), 'WEIXIN_MEDIA_ERR_FIT'],
  [new MediaSourceError('ENOENT', '/no/such/file.jpg'), 'WEIXIN_MEDIA_ERR_SOURCE'],
  [
    new WeixinApiError(45009, 'reach max api daily quota limit', '/cgi-bin/media/upload'),
    'WEIXIN_MEDIA_ERR_API',
  ],
  [
    new WeixinNetworkError('reset', '/cgi-bin/media/upload', undefined, 'ECONNRESET'),
    'WEIXIN_MEDIA_ERR_NETWORK',
  ],
  [new WeixinDownloadTooLargeError('/cgi-bin/media/get', 10, 11), 'WEIXIN_MEDIA_ERR_DOWNLOAD_TOO_LARGE'],
  [new UnknownAccountError('wx0000000000000000'), 'WEIXIN_MEDIA_ERR_UNKNOWN_ACCOUNT'],
  [new AccountResolverTimeoutError('wx0000000000000000', 300), 'WEIXIN_MEDIA_ERR_ACCOUNT_RESOLVER_TIMEOUT'],
  [new WeixinMediaOptionsError(['appId is missing']), 'WEIXIN_MEDIA_ERR_OPTIONS'],
  [new WeixinStoreError('token store set', 'READONLY replica', 'READONLY'), 'WEIXIN_MEDIA_ERR_STORE'],
  [
    new CallbackRefusedError('signature', 'the signature does not match'),
    'WEIXIN_MEDIA_ERR_CALLBACK_REFUSED',
  ],
  [new UploadFormError('no file'), 'WEIXIN_MEDIA_ERR_UPLOAD_FORM'],
  [new UploadBodyTooLargeError('too large', 10, 11), 'WEIXIN_MEDIA_ERR_UPLOAD_BODY_TOO_LARGE'],
  [new UploadTimeoutError('stalled'), 'WEIXIN_MEDIA_ERR_UPLOAD_TIMEOUT'],
  [new UploadAbortedError(), 'WEIXIN_MEDIA_ERR_UPLOAD_ABORTED'],
  [new DamagedMediaError('cut short'), 'WEIXIN_MEDIA_ERR_DAMAGED_MEDIA'],
  [new OtherFormatError('a JPEG-LS image'), 'WEIXIN_MEDIA_ERR_OTHER_FORMAT'],
];

describe('WeixinMediaError', () => {
  it('is the base of every error of the library, each class with its own stable code', () => {
    for (const [error, code] of EVERY_ERROR) {
      assert.ok(error instanceof WeixinMediaError, error.name);
      assert.ok(error instanceof Error, error.name);
      assert.equal(error.code, code, error.name);
    }
    const codes = EVERY_ERROR.map(([error]) => error.code);
    assert.equal(new Set(codes).size, codes.length, 'one code per class');
  });

  it('shows the code in JSON, where loggers look', () => {
    for (const [error, code] of EVERY_ERROR) {
      assert.equal(JSON.parse(JSON.stringify(error)).code, code, error.name);
    }
  });

  it('keeps the code of the failure underneath as systemCode or storeCode', () => {
    const network = new WeixinNetworkError('slow', '/cgi-bin/media/get', undefined, 'ETIMEDOUT');
    assert.equal(network.systemCode, 'ETIMEDOUT');
    assert.equal(network.timedOut, true);
    assert.equal(JSON.parse(JSON.stringify(network)).systemCode, 'ETIMEDOUT');
    const source = new MediaSourceError('EISDIR', '/tmp');
    assert.equal(source.systemCode, 'EISDIR');
    assert.match(source.message, /EISDIR \(a directory, not a file\)/);
    const store = WeixinStoreError.from('media cache get', new Error('OOM command not allowed'));
    assert.equal(store.storeCode, 'OOM');
  });

  it('is what the rules reject a damaged file with', async () => {
    const damaged = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const error = await inspectMediaContent('image', bufferContent(damaged)).catch((caught) => caught);
    assert.ok(error instanceof WeixinMediaError);
    assert.equal(error.code, 'WEIXIN_MEDIA_ERR_VALIDATION');
    assert.equal((error as MediaValidationError).reason, 'unreadable');
  });
});
