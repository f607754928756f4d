import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as entry from '../../../lib';
import * as testing from '../../../lib/testing';

/**
 * The runtime names each entry point exports (types are erased and not listed). A change to this surface is a
 * decision: add or remove the name here, in the README and in CHANGELOG.md. Keep each list sorted.
 */
const ENTRY = [
  'AccessTokenManager',
  'AccountResolverTimeoutError',
  'CallbackRefusedError',
  'CallbackReplySender',
  'DEFAULT_API_BASE_URL',
  'FORMAT_EXTENSIONS',
  'InMemoryCallbackStore',
  'InMemoryMediaCache',
  'InMemoryTokenStore',
  'InjectWeixinMediaOptions',
  'MAX_TEXT_BYTES',
  'MEDIA_LIFETIME_MS',
  'MEDIA_RULES',
  'MEDIA_TYPES',
  'MediaFitError',
  'MediaSourceError',
  'MediaUploadInterceptor',
  'MediaValidationError',
  'MessageValidationError',
  'OnWeixinEvent',
  'OnWeixinMessage',
  'ParseWeixinMediaPipe',
  'RedisCallbackStore',
  'RedisMediaCache',
  'RedisTokenStore',
  'TemporaryMediaService',
  'UnknownAccountError',
  'UploadMediaDto',
  'WEIXIN_ERROR_CODES',
  'WEIXIN_MEDIA_MODULE_OPTIONS',
  'WeixinApiError',
  'WeixinDownloadTooLargeError',
  'WeixinErrorCode',
  'WeixinMediaError',
  'WeixinMediaExceptionFilter',
  'WeixinMediaFileValidator',
  'WeixinMediaHealthIndicator',
  'WeixinMediaModule',
  'WeixinMediaOptionsError',
  'WeixinMessageService',
  'WeixinNetworkError',
  'WeixinReply',
  'WeixinStoreError',
  'isQuotaErrcode',
  'isRetryableErrcode',
  'isTokenInvalidErrcode',
  'nextQuotaReset',
  'toHttpException',
  'weixinValidationExceptionFactory',
];

const TESTING = ['FAKE_WEIXIN_PATHS', 'FakeWeixinServer'];

/** Internals that were once exported and must stay inside (the README documents none of them). */
const INTERNALS = [
  'detectFormat',
  'inspectMediaContent',
  'openFileContent',
  'redactSecrets',
  'resolveWeixinMediaOptions',
  'weixinFilename',
  'WEIXIN_CONFIG_KEYS',
];

function sorted(names: string[]): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('public surface', () => {
  it('nestjs-weixin-media exports exactly the listed names', () => {
    assert.deepEqual(sorted(Object.keys(entry)), sorted(ENTRY));
  });

  it('nestjs-weixin-media/testing exports exactly the listed names', () => {
    assert.deepEqual(sorted(Object.keys(testing)), sorted(TESTING));
  });

  it('the lists are sorted, so an addition is one line in its place', () => {
    assert.deepEqual(ENTRY, sorted(ENTRY));
    assert.deepEqual(TESTING, sorted(TESTING));
  });

  it('keeps the internals unexported', () => {
    for (const name of INTERNALS) assert.equal(name in entry, false, `${name} is internal`);
  });
});
