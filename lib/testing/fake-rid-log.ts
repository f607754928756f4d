import type { FakeExchange } from './fake-exchange';

/** Weixin keeps rids for 7 days. */
const RID_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** Weixin's answer for a rid it does not know (or no longer keeps). */
const RID_NOT_FOUND = 76001;
/** Entries beyond this are dropped oldest first, so a long benchmark cannot grow the log without bound. */
const MAX_ENTRIES = 50_000;

/** What `POST /cgi-bin/openapi/rid/get` answers in `request`, as Weixin records a failed call. */
export interface FakeRidRecord {
  invoke_time: number;
  cost_in_ms: number;
  /** The query string as sent: it holds the caller's access token, as Weixin's record does. */
  request_url: string;
  /** A JSON body as sent (a token request's holds the secret); '' for multipart uploads and GETs. */
  request_body: string;
  response_body: string;
  client_ip: string;
}

interface LoggedFailure {
  appId: string;
  at: number;
  record: FakeRidRecord;
}

/**
 * Every failed call the fake answered, by the rid in its errmsg, per account: what
 * `POST /cgi-bin/openapi/rid/get` looks up. Only the account that made the call can look it up.
 */
export class FakeRidLog {
  private readonly failures = new Map<string, LoggedFailure>();

  /** Records `exchange`'s failure answered with `body` (its errmsg carries `rid`), for `appId`. */
  record(rid: string, appId: string, exchange: FakeExchange, body: object, now: number): void {
    const { entry } = exchange;
    const target = exchange.req.url ?? '';
    const mark = target.indexOf('?');
    this.failures.set(rid, {
      appId,
      at: now,
      record: {
        invoke_time: Math.floor(entry.at / 1000),
        cost_in_ms: Math.max(0, Math.round(now - entry.at)),
        request_url: mark < 0 ? '' : target.slice(mark + 1),
        request_body: exchange.jsonBodyText ?? '',
        response_body: JSON.stringify(body),
        client_ip: exchange.callerIp,
      },
    });
    if (this.failures.size > MAX_ENTRIES) {
      this.failures.delete(this.failures.keys().next().value!);
    }
  }

  /** The record of `rid` when `appId` made that call within the last 7 days. */
  get(rid: string, appId: string, now: number): FakeRidRecord | undefined {
    const failure = this.failures.get(rid);
    return failure && failure.appId === appId && now - failure.at <= RID_LIFETIME_MS
      ? failure.record
      : undefined;
  }

  /** Every rid recorded, oldest first. */
  get rids(): string[] {
    return [...this.failures.keys()];
  }

  clear(): void {
    this.failures.clear();
  }

  /** `POST /cgi-bin/openapi/rid/get` `{ rid }` for the account `appId` (already authenticated). */
  async answer(exchange: FakeExchange, appId: string, now: number): Promise<void> {
    const body = await exchange.readJsonObject();
    if (body === 'aborted') return;
    if (!body || typeof body.rid !== 'string' || body.rid === '') return exchange.error(47001);
    const record = this.get(body.rid, appId, now);
    if (!record) return exchange.error(RID_NOT_FOUND);
    exchange.json(200, { errcode: 0, errmsg: 'ok', request: record });
  }
}
