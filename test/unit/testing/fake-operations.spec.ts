import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

const QUOTA = '/cgi-bin/openapi/quota/get';
const RID = '/cgi-bin/openapi/rid/get';

describe('FakeWeixinServer: quota/get and rid/get', () => {
  const weixin = fakeWeixinPerTest();
  let token: string;

  beforeEach(async () => {
    const query = new URLSearchParams({
      grant_type: 'client_credential',
      appid: weixin.fake.appId,
      secret: weixin.fake.appSecret,
    });
    token = (
      (await (await fetch(`${weixin.baseUrl}/cgi-bin/token?${query}`)).json()) as { access_token: string }
    ).access_token;
  });

  async function post(path: string, body: unknown, accessToken = token): Promise<Record<string, unknown>> {
    const response = await fetch(`${weixin.baseUrl}${path}?access_token=${accessToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  it('quota/get answers the upload quota, 76021 for a path without one, 47001 for a bad body', async () => {
    assert.deepEqual(await post(QUOTA, { cgi_path: '/cgi-bin/media/upload' }), {
      errcode: 0,
      errmsg: 'ok',
      quota: { daily_limit: 100_000, used: 0, remain: 100_000 },
    });
    assert.equal((await post(QUOTA, { cgi_path: '/cgi-bin/nothing' })).errcode, 76021);
    assert.equal((await post(QUOTA, 'not json')).errcode, 47001);
    assert.equal((await post(QUOTA, { cgi_path: '/cgi-bin/media/upload' }, 'not-a-token')).errcode, 40001);
    const get = await fetch(`${weixin.baseUrl}${QUOTA}?access_token=${token}`);
    assert.equal(((await get.json()) as { errcode: number }).errcode, 43002);
  });

  it('records every error answer by its rid, with the access token in the URL as Weixin does', async () => {
    const failed = await post(QUOTA, { cgi_path: '/cgi-bin/nothing' });
    const rid = /rid: ([\w-]+)$/.exec(failed.errmsg as string)?.[1];
    assert.ok(rid, `a rid in ${failed.errmsg}`);
    assert.deepEqual(weixin.fake.rids.rids, [rid]);
    const answer = await post(RID, { rid });
    assert.equal(answer.errcode, 0);
    const request = answer.request as Record<string, unknown>;
    assert.equal(request.request_url, `access_token=${token}`);
    assert.equal(request.request_body, JSON.stringify({ cgi_path: '/cgi-bin/nothing' }));
    assert.deepEqual(JSON.parse(request.response_body as string), failed);
    assert.equal(request.client_ip, '127.0.0.1');
    assert.equal(typeof request.invoke_time, 'number');
    assert.equal(typeof request.cost_in_ms, 'number');
  });

  it('rid/get answers 76001 for an unknown rid and 47001 without one', async () => {
    assert.equal((await post(RID, { rid: 'unknown' })).errcode, 76001);
    assert.equal((await post(RID, {})).errcode, 47001);
  });

  it('a 40164 fault names the caller address, its own or the one the fault sets', async () => {
    weixin.fake.injectFault({ path: QUOTA, errcode: 40164 });
    weixin.fake.injectFault({ path: QUOTA, errcode: 40164, callerIp: '198.51.100.20' });
    const local = await post(QUOTA, {});
    assert.match(
      local.errmsg as string,
      /^invalid ip 127\.0\.0\.1 ipv6 ::ffff:127\.0\.0\.1, not in whitelist rid: /,
    );
    const set = await post(QUOTA, {});
    assert.match(set.errmsg as string, /^invalid ip 198\.51\.100\.20 /);
    const rid = /rid: ([\w-]+)$/.exec(set.errmsg as string)![1];
    assert.equal(weixin.fake.rids.get(rid, weixin.fake.appId, weixin.fake.now())?.client_ip, '198.51.100.20');
  });
});
