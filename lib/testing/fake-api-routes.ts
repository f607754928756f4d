import type { FakeExchange } from './fake-exchange';
import type { FakeMediaEndpoints } from './fake-media-endpoints';
import type { FakeMessageEndpoints } from './fake-message-endpoints';
import type { FakeQuotaLedger } from './fake-quota';
import type { FakeRidLog } from './fake-rid-log';
import type { FakeTokenEndpoints } from './fake-token-endpoints';
import { FAKE_WEIXIN_PATHS } from './fake-weixin-paths';

/** Which endpoint answers a request: by path, with the method Weixin requires and a live token of an account. */
export class FakeApiRoutes {
  constructor(
    private readonly tokens: FakeTokenEndpoints,
    private readonly media: FakeMediaEndpoints,
    private readonly messages: FakeMessageEndpoints,
    private readonly quotas: FakeQuotaLedger,
    private readonly rids: FakeRidLog,
    private readonly now: () => number,
  ) {}

  /** `afterSend`: a fault played once a custom/send was recorded; true when it answered instead. */
  async route(exchange: FakeExchange, afterSend?: () => Promise<boolean>): Promise<void> {
    const { path } = exchange;
    if (path === FAKE_WEIXIN_PATHS.token) {
      if (this.requireMethod(exchange, 'GET')) this.tokens.classic(exchange);
    } else if (path === FAKE_WEIXIN_PATHS.stableToken) {
      if (this.requireMethod(exchange, 'POST')) await this.tokens.stable(exchange);
    } else if (path === FAKE_WEIXIN_PATHS.customSend || path === FAKE_WEIXIN_PATHS.customTyping) {
      const appId = this.requireMethod(exchange, 'POST') && this.tokens.authenticate(exchange);
      if (appId && path === FAKE_WEIXIN_PATHS.customSend)
        await this.messages.send(exchange, appId, afterSend);
      else if (appId) await this.messages.typing(exchange, appId);
    } else if (path === FAKE_WEIXIN_PATHS.upload) {
      const appId = this.requireMethod(exchange, 'POST') && this.tokens.authenticate(exchange);
      if (appId) await this.media.upload(exchange, appId);
    } else if (path === FAKE_WEIXIN_PATHS.download || path === FAKE_WEIXIN_PATHS.downloadJssdk) {
      const appId = this.requireMethod(exchange, 'GET') && this.tokens.authenticate(exchange);
      if (appId) this.media.download(exchange, appId, path === FAKE_WEIXIN_PATHS.downloadJssdk);
    } else if (path === FAKE_WEIXIN_PATHS.quota || path === FAKE_WEIXIN_PATHS.rid) {
      const appId = this.requireMethod(exchange, 'POST') && this.tokens.authenticate(exchange);
      const ledger = path === FAKE_WEIXIN_PATHS.quota ? this.quotas : this.rids;
      if (appId) await ledger.answer(exchange, appId, this.now());
    } else if (path.startsWith(FAKE_WEIXIN_PATHS.video)) {
      if (this.requireMethod(exchange, 'GET')) this.media.videoFile(exchange);
    } else {
      exchange.json(404, { errcode: 404, errmsg: `not found: ${path.slice(0, 200)}` });
    }
  }

  private requireMethod(exchange: FakeExchange, method: 'GET' | 'POST'): boolean {
    const ok = exchange.method === method || (method === 'GET' && exchange.method === 'HEAD');
    if (!ok) exchange.error(method === 'GET' ? 43001 : 43002);
    return ok;
  }
}
