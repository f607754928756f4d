import { readFileSync } from 'node:fs';
import type { FakeWeixinServer } from '../../lib/testing';
import { mediaFixture } from './paths';

/** Raw calls to a FakeWeixinServer, as a Weixin client would make them (for the fake's own specs). */
export const MINUTE = 60 * 1000;
export const DAY = 24 * 60 * MINUTE;
export const MB = 1024 * 1024;

export function fixture(name: string): Buffer {
  return readFileSync(mediaFixture(name));
}

export interface JsonAnswer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
  /** The rid the fake put at the end of errmsg (taken out of `body.errmsg`, so bodies compare plainly). */
  rid?: string;
}

const FAKE_RID = / rid: ([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8})$/;

export async function json(response: Response): Promise<JsonAnswer> {
  const body = (await response.json()) as Record<string, unknown>;
  const rid = typeof body.errmsg === 'string' ? FAKE_RID.exec(body.errmsg)?.[1] : undefined;
  if (rid) body.errmsg = (body.errmsg as string).replace(FAKE_RID, '');
  return { status: response.status, contentType: response.headers.get('content-type'), body, rid };
}

export function classicToken(
  fake: FakeWeixinServer,
  query: Record<string, string> = {},
): Promise<JsonAnswer> {
  const params = new URLSearchParams({
    grant_type: 'client_credential',
    appid: fake.appId,
    secret: fake.appSecret,
    ...query,
  });
  return fetch(`${fake.baseUrl}/cgi-bin/token?${params}`).then(json);
}

export function stableToken(fake: FakeWeixinServer, body: Record<string, unknown> = {}): Promise<JsonAnswer> {
  const payload = { grant_type: 'client_credential', appid: fake.appId, secret: fake.appSecret, ...body };
  return fetch(`${fake.baseUrl}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  }).then(json);
}

export async function newToken(fake: FakeWeixinServer): Promise<string> {
  const answer = await classicToken(fake);
  return answer.body.access_token as string;
}

/** What an authenticated call answers with this token: 40007 (unknown media_id) means the token works. */
export async function tokenErrcode(fake: FakeWeixinServer, token: string): Promise<unknown> {
  const url = `${fake.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=none`;
  return (await fetch(url).then(json)).body.errcode;
}

export function upload(
  fake: FakeWeixinServer,
  token: string,
  type: string,
  data: Buffer | string,
  filename?: string,
): Promise<JsonAnswer> {
  const form = new FormData();
  if (typeof data === 'string') form.append('media', data);
  else form.append('media', new Blob([data]), filename);
  const query = new URLSearchParams({ access_token: token, type });
  return fetch(`${fake.baseUrl}/cgi-bin/media/upload?${query}`, { method: 'POST', body: form }).then(json);
}

export function download(
  fake: FakeWeixinServer,
  token: string,
  mediaId: string,
  jssdk = false,
): Promise<Response> {
  const path = jssdk ? '/cgi-bin/media/get/jssdk' : '/cgi-bin/media/get';
  return fetch(`${fake.baseUrl}${path}?access_token=${token}&media_id=${encodeURIComponent(mediaId)}`);
}
