import type { FakeAccounts } from './fake-accounts';
import type { FakeExchange } from './fake-exchange';
import type { FakeRequestLog } from './fake-request-log';

/** Access tokens as Weixin issues and checks them: classic and stable token requests, and each API call's token. */
export class FakeTokenEndpoints {
  constructor(
    private readonly accounts: FakeAccounts,
    private readonly log: FakeRequestLog,
    private readonly now: () => number,
  ) {}

  /** `GET /cgi-bin/token`. */
  classic(exchange: FakeExchange): void {
    const { grant_type, appid, secret } = exchange.query;
    if (appid) this.log.attribute(exchange.entry, appid.slice(0, 64));
    const refused = this.accounts.checkCredentials(grant_type, appid, secret);
    if (refused) return exchange.error(refused);
    const grant = this.accounts.issueClassic(appid, this.now());
    exchange.json(200, { access_token: grant.accessToken, expires_in: grant.expiresIn });
  }

  /** `POST /cgi-bin/stable_token`. */
  async stable(exchange: FakeExchange): Promise<void> {
    const body = await exchange.readJsonObject();
    if (body === 'aborted') return;
    if (!body) return exchange.error(47001);
    const { grant_type, appid, secret, force_refresh } = body;
    if (typeof appid === 'string' && appid !== '') this.log.attribute(exchange.entry, appid.slice(0, 64));
    const refused = this.accounts.checkCredentials(grant_type, appid, secret);
    if (refused) return exchange.error(refused);
    const grant = this.accounts.issueStable(appid as string, this.now(), force_refresh === true);
    if (typeof grant === 'number') return exchange.error(grant);
    exchange.json(200, { access_token: grant.accessToken, expires_in: grant.expiresIn });
  }

  /** The account whose live access token the request carries; else answers the token error and false. */
  authenticate(exchange: FakeExchange): string | false {
    const token = exchange.query.access_token;
    if (!token) {
      exchange.error(41001);
      return false;
    }
    const { appId, check } = this.accounts.check(token, this.now());
    if (appId !== undefined) this.log.attribute(exchange.entry, appId);
    if (check !== 0 || appId === undefined) {
      exchange.error(check || 40001);
      return false;
    }
    return appId;
  }

  /** The account a call was made for: as attributed, else by its token or appid (an injected fault). */
  accountOf(exchange: FakeExchange, defaultAppId: string): string {
    const { access_token: token, appid } = exchange.query;
    const byToken = token ? this.accounts.check(token, this.now()).appId : undefined;
    return exchange.entry.appId ?? byToken ?? appid ?? defaultAppId;
  }
}
