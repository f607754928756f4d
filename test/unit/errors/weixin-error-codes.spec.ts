import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import {
  isQuotaErrcode,
  isRetryableErrcode,
  isTokenInvalidErrcode,
  nextQuotaReset,
  WEIXIN_ERROR_CODES,
  WeixinApiError,
  WeixinErrorCode,
} from '../../../lib';

const UPLOAD = '/cgi-bin/media/upload';
const TOKEN = 'ACCESS_TOKEN_abcdefghijklmnop0123456789';
const SECRET = 'app-secret-0123456789abcdef';

function everything(error: WeixinApiError): string {
  return `${error.message} ${error.stack} ${JSON.stringify(error)} ${inspect(error)} ${error.hint}`;
}

describe('the Weixin error code table', () => {
  it('names every code once, with a meaning', () => {
    const values = Object.values(WeixinErrorCode);
    assert.equal(new Set(values).size, values.length);
    for (const code of values) assert.ok(WEIXIN_ERROR_CODES[code].meaning, `meaning of ${code}`);
  });

  it('says which codes are token-invalid, retryable and quota', () => {
    const all = Object.values(WeixinErrorCode);
    assert.deepEqual(all.filter(isTokenInvalidErrcode).sort(), [40001, 40014, 42001]);
    assert.deepEqual(all.filter(isRetryableErrcode), [-1]);
    assert.deepEqual(all.filter(isQuotaErrcode).sort(), [45009, 45011]);
    assert.equal(isTokenInvalidErrcode(12345), false);
    assert.equal(new WeixinApiError(42001, 'access_token expired', UPLOAD).isTokenInvalid, true);
    assert.equal(new WeixinApiError(40007, 'invalid media_id', UPLOAD).isTokenInvalid, false);
  });
});

describe('WeixinApiError.hint', () => {
  it('40164 names the caller IP Weixin reported and the allow-list', () => {
    const errmsg =
      'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6650f3f1-1a2b3c4d-5e6f7a8b';
    const error = new WeixinApiError(40164, errmsg, '/cgi-bin/stable_token');
    assert.match(error.hint!, /203\.0\.113\.7/);
    assert.match(error.hint!, /IP allow-list/);
    assert.equal(error.rid, '6650f3f1-1a2b3c4d-5e6f7a8b');
    assert.match(error.message, /203\.0\.113\.7/);
    assert.deepEqual(JSON.parse(JSON.stringify(error)).hint, error.hint);
  });

  it('40164 without an address in errmsg still says what to do, and never copies other text', () => {
    const error = new WeixinApiError(
      40164,
      `invalid ip <script>${TOKEN}</script>, not in whitelist`,
      '/cgi-bin/token',
    );
    assert.match(error.hint!, /this server's public IP/);
    assert.ok(!error.hint!.includes('script'));
    assert.ok(!error.hint!.includes(TOKEN));
  });

  it('40013 and 40125 name the setting to check', () => {
    const appId = new WeixinApiError(40013, 'invalid appid', '/cgi-bin/stable_token');
    assert.match(appId.hint!, /appId setting \(WEIXIN_APP_ID/);
    const secret = new WeixinApiError(40125, 'invalid appsecret', '/cgi-bin/stable_token');
    assert.match(secret.hint!, /appSecret setting \(WEIXIN_APP_SECRET/);
  });

  it('48001 names the API and the permission', () => {
    const error = new WeixinApiError(48001, 'api unauthorized', UPLOAD);
    assert.match(error.hint!, /no permission for \/cgi-bin\/media\/upload/);
  });

  it('45009 says it is the daily quota and when it resets (midnight Beijing time, UTC+8)', () => {
    const error = new WeixinApiError(45009, 'reach max api daily quota limit', UPLOAD);
    assert.match(error.hint!, /daily quota for \/cgi-bin\/media\/upload/);
    assert.match(error.hint!, /midnight Beijing time \(UTC\+8\)/);
    assert.ok(error.hint!.includes(nextQuotaReset().toISOString()));
    assert.match(error.hint!, /do not retry/);
  });

  it('nextQuotaReset is the next 16:00 UTC', () => {
    assert.equal(nextQuotaReset(new Date('2026-12-03T07:00:00Z')).toISOString(), '2026-12-03T16:00:00.000Z');
    assert.equal(nextQuotaReset(new Date('2026-12-03T15:59:59Z')).toISOString(), '2026-12-03T16:00:00.000Z');
    assert.equal(nextQuotaReset(new Date('2026-12-03T16:00:00Z')).toISOString(), '2026-12-04T16:00:00.000Z');
    assert.equal(nextQuotaReset(new Date('2026-12-31T23:30:00Z')).toISOString(), '2027-01-01T16:00:00.000Z');
  });

  it('45011 says to wait for the minute', () => {
    const error = new WeixinApiError(
      45011,
      'api minute-quota reach limit mustslower retry next time',
      UPLOAD,
    );
    assert.match(error.hint!, /per-minute quota/);
    assert.match(error.hint!, /after the minute/);
  });

  it('40007 names the three causes: expired after 3 days, another account, temporary where permanent is wanted', () => {
    const error = new WeixinApiError(40007, 'invalid media_id', '/cgi-bin/media/get');
    assert.match(error.hint!, /expire 3 days after upload/);
    assert.match(error.hint!, /only for the Official Account that uploaded it/);
    assert.match(error.hint!, /permanent material/);
  });

  it('is one sentence', () => {
    for (const errcode of [40164, 40013, 40125, 48001, 45009, 45011, 40007, 40001]) {
      const hint = new WeixinApiError(errcode, 'x', UPLOAD).hint!;
      assert.match(hint, /^[A-Z][^]*\.$/, `${errcode}: ${hint}`);
      assert.equal(hint.split(/\.\s+[A-Z]/).length, 1, `${errcode}: one sentence: ${hint}`);
    }
  });

  it('is absent where there is no clear fix', () => {
    assert.equal(new WeixinApiError(40005, 'invalid file type', UPLOAD).hint, undefined);
    assert.equal(new WeixinApiError(-1, 'system error', UPLOAD).hint, undefined);
  });

  it('never carries a secret or token, whatever errmsg held', () => {
    for (const errcode of [40164, 40013, 40125, 48001, 45009, 45011, 40007, 40001, 40005]) {
      const errmsg = `invalid ip 1.2.3.4 access_token=${TOKEN}&secret=${SECRET} {"secret":"${SECRET}"}`;
      const error = new WeixinApiError(errcode, errmsg, UPLOAD);
      const text = everything(error);
      assert.ok(!text.includes(TOKEN), `${errcode} leaks the token`);
      assert.ok(!text.includes(SECRET), `${errcode} leaks the secret`);
    }
  });
});
