import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FakeAccounts } from './fake-accounts';
import {
  FakeCallbackDelivery,
  type FakeDeliverOptions,
  type FakeDelivery,
  type FakeInboundMessage,
} from './fake-callback-delivery';
import { FakeExchange } from './fake-exchange';
import type { FakeFault } from './fake-fault.interface';
import { type FakeFollower, FakeFollowers } from './fake-followers';
import { FakeMediaEndpoints } from './fake-media-endpoints';
import { type FakeMedia, FakeMediaStore } from './fake-media-store';
import { FakeQuotaLedger } from './fake-quota';
import { FakeRequestLog } from './fake-request-log';
import { FakeRidLog } from './fake-rid-log';
import { FAKE_WEIXIN_PATHS } from './fake-weixin-paths';
import type { FakeWeixinRequest } from './fake-weixin-request.interface';
import type { FakeWeixinServerOptions } from './fake-weixin-server-options.interface';

const DEFAULT_APP_ID = 'wx0fa4e5c1d2b3a4f5';
const DEFAULT_APP_SECRET = 'fake-app-secret-0123456789abcdef';
const DEFAULT_MAX_STORED_BYTES = 512 * 1024 * 1024;
/** Longer than clients' idle timeouts: the client closes idle sockets first (no reuse-after-close race). */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Room for 1,000 clients connecting at once (the kernel caps it at somaxconn). */
const LISTEN_BACKLOG = 4096;

interface QueuedFault {
  readonly fault: FakeFault;
  left: number;
}

/**
 * A real HTTP server on 127.0.0.1 that answers like the Weixin API: access tokens (classic and stable),
 * temporary media upload and download, with Weixin's error codes, a fake clock, injected faults and a log
 * of every request. It serves several Official Accounts, each with its own tokens, media and counts.
 * The test double for the library and what the sample app runs on.
 */
export class FakeWeixinServer {
  /** The first account's AppID (the one a single-account test uses). */
  readonly appId: string;
  readonly appSecret: string;

  protected readonly accounts: FakeAccounts;
  protected readonly media: FakeMediaStore;
  protected readonly endpoints: FakeMediaEndpoints;
  /** The daily upload quota per account (`quota/get`; 45009 once used up). */
  readonly quotas: FakeQuotaLedger;
  /** Every failed call by the rid in its errmsg, per account (`rid/get`). */
  readonly rids = new FakeRidLog();
  protected readonly followers = new FakeFollowers();
  protected readonly callbacks: FakeCallbackDelivery;
  private readonly log = new FakeRequestLog();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pendingDelays = new Set<() => void>();
  private faults: QueuedFault[] = [];
  private clockOffsetMs = 0;
  private port = 0;
  private closing?: Promise<void>;

  protected constructor(options: FakeWeixinServerOptions = {}) {
    this.appId = options.appId ?? DEFAULT_APP_ID;
    this.appSecret = options.appSecret ?? DEFAULT_APP_SECRET;
    const lifetimeSeconds = options.tokenLifetimeSeconds ?? 7200;
    if (!(lifetimeSeconds > 0)) {
      throw new RangeError(`tokenLifetimeSeconds must be positive, got ${lifetimeSeconds}`);
    }
    this.accounts = new FakeAccounts(lifetimeSeconds * 1000);
    this.accounts.add(this.appId, this.appSecret);
    for (const { appId, appSecret } of options.accounts ?? []) this.accounts.add(appId, appSecret);
    this.media = new FakeMediaStore(options.maxStoredBytes ?? DEFAULT_MAX_STORED_BYTES);
    this.quotas = new FakeQuotaLedger(options.dailyUploadQuota);
    this.endpoints = new FakeMediaEndpoints(
      this.media,
      this.quotas,
      () => this.now(),
      () => this.baseUrl,
    );
    this.callbacks = new FakeCallbackDelivery(this.followers, this.appId, () => this.now());

    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.onClientError(error, socket),
    );
  }

  static async start(options: FakeWeixinServerOptions = {}): Promise<FakeWeixinServer> {
    const fake = new this(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** `http://127.0.0.1:PORT`: the `apiBaseUrl` for the library. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Closes the server and destroys every open socket (keep-alive, hanging, mid-upload); never hangs. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const wake of this.pendingDelays) wake();
      this.pendingDelays.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  /** Serves another Official Account (or gives a served one a new secret; its tokens stay valid). */
  addAccount(appId: string, appSecret: string): void {
    this.accounts.add(appId, appSecret);
  }

  /** Forgets tokens, media, followers, faults, the request log and the clock offset; the accounts stay. */
  reset(): void {
    this.accounts.clearTokens();
    this.media.clear();
    this.quotas.clear();
    this.rids.clear();
    this.followers.clear();
    this.faults = [];
    this.log.clear();
    this.clockOffsetMs = 0;
  }

  /** The fake clock in ms: tokens and media age by it. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceTime(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advanceTime needs a finite ms >= 0, got ${ms}`);
    this.clockOffsetMs += ms;
  }

  /** The latest requests (up to 50,000), oldest first; a copy. */
  get requests(): readonly FakeWeixinRequest[] {
    return this.log.entries;
  }

  /**
   * How many requests reached `path` (all paths when omitted), for the account `appId` (any when
   * omitted: see `FakeWeixinRequest.appId`); exact however long the log grew.
   */
  countRequests(path?: string, appId?: string): number {
    return this.log.count(path, appId);
  }

  /** Classic and stable token requests together. */
  get tokenRequestCount(): number {
    return this.countTokenRequests();
  }

  /** Classic and stable token requests together, of the account `appId` (all accounts when omitted). */
  countTokenRequests(appId?: string): number {
    return (
      this.countRequests(FAKE_WEIXIN_PATHS.token, appId) +
      this.countRequests(FAKE_WEIXIN_PATHS.stableToken, appId)
    );
  }

  injectFault(fault: FakeFault): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) return;
    this.faults.push({ fault: { ...fault }, left: times });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Every token issued so far (of every account) dies now: its next use answers 42001. */
  expireAllTokens(): void {
    this.accounts.expireAll(this.now());
  }

  /** The stored media, also once it has expired for the API. */
  getMedia(mediaId: string): FakeMedia | undefined {
    return this.media.get(mediaId);
  }

  /**
   * Gives the voice `mediaId` the high-definition recording the JS-SDK makes of it: `media/get/jssdk` then
   * answers `speex` (headerless 16 kHz wideband Speex, 60-byte frames of 20 ms) instead of the upload.
   */
  setHdVoice(mediaId: string, speex: Buffer): void {
    const media = this.media.get(mediaId);
    if (media?.type !== 'voice')
      throw new RangeError(`setHdVoice needs the media_id of a voice; got ${mediaId}`);
    media.hdVoice = speex;
  }

  /**
   * Posts `message` to your app's callback `url` as Weixin does (signed, encrypted in compat and safe mode,
   * each try afresh; at most 3 tries of 5 s) and answers with the reply read as Weixin reads it. The sender
   * becomes a follower who just wrote (an `unsubscribe` event removes them).
   */
  deliver(url: string, message: FakeInboundMessage, options: FakeDeliverOptions): Promise<FakeDelivery> {
    return this.callbacks.deliver(url, message, options);
  }

  /** A user who follows the account `appId` (default: the first), last writing at `lastMessageAt`. */
  addFollower(openId: string, options: { appId?: string; lastMessageAt?: Date } = {}): void {
    this.followers.add(options.appId ?? this.appId, openId, options.lastMessageAt);
  }

  /** The follower `openId` of the account `appId` (default: the first), if the fake knows them. */
  follower(openId: string, appId: string = this.appId): FakeFollower | undefined {
    return this.followers.get(appId, openId);
  }

  protected listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ port, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', onError);
        // Past startup nothing the OS reports about the listening socket should crash a test run.
        this.server.on('error', () => undefined);
        const address = this.server.address();
        this.port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    // A client that leaves mid-request must never become an unhandled 'error' event.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const { path, query } = FakeExchange.parseTarget(req.url ?? '/');
    const entry: FakeWeixinRequest = { method: req.method ?? 'GET', path, query, at: this.now(), status: 0 };
    this.log.record(entry);
    const exchange = new FakeExchange(req, res, entry);
    exchange.onFailure = (rid, body) =>
      this.rids.record(rid, this.accountOf(exchange), exchange, body, this.now());
    this.handle(exchange).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      exchange.error(-1, `fake server bug: ${message}`, 500);
    });
  }

  protected async handle(exchange: FakeExchange): Promise<void> {
    const fault = this.takeFault(exchange.path);
    if (fault) {
      if (fault.delayMs) await this.sleep(fault.delayMs);
      if (exchange.gone) return;
      if (fault.callerIp) exchange.callerIp = fault.callerIp;
      if (fault.reset) return exchange.destroy();
      if (fault.status !== undefined) {
        if (fault.errcode !== undefined) return exchange.error(fault.errcode, fault.errmsg, fault.status);
        return exchange.httpStatus(fault.status);
      }
      if (fault.errcode !== undefined) return exchange.error(fault.errcode, fault.errmsg);
    }
    await this.route(exchange);
  }

  protected async route(exchange: FakeExchange): Promise<void> {
    const { path } = exchange;
    if (path === FAKE_WEIXIN_PATHS.token) {
      if (this.requireMethod(exchange, 'GET')) this.classicToken(exchange);
    } else if (path === FAKE_WEIXIN_PATHS.stableToken) {
      if (this.requireMethod(exchange, 'POST')) await this.stableToken(exchange);
    } else if (path === FAKE_WEIXIN_PATHS.upload) {
      const appId = this.requireMethod(exchange, 'POST') && this.authenticate(exchange);
      if (appId) await this.endpoints.upload(exchange, appId);
    } else if (path === FAKE_WEIXIN_PATHS.download || path === FAKE_WEIXIN_PATHS.downloadJssdk) {
      const appId = this.requireMethod(exchange, 'GET') && this.authenticate(exchange);
      if (appId) this.endpoints.download(exchange, appId, path === FAKE_WEIXIN_PATHS.downloadJssdk);
    } else if (path === FAKE_WEIXIN_PATHS.quota || path === FAKE_WEIXIN_PATHS.rid) {
      const appId = this.requireMethod(exchange, 'POST') && this.authenticate(exchange);
      if (appId)
        await (path === FAKE_WEIXIN_PATHS.quota ? this.quotas : this.rids).answer(
          exchange,
          appId,
          this.now(),
        );
    } else if (path.startsWith(FAKE_WEIXIN_PATHS.video)) {
      if (this.requireMethod(exchange, 'GET')) this.endpoints.videoFile(exchange);
    } else {
      exchange.json(404, { errcode: 404, errmsg: `not found: ${path.slice(0, 200)}` });
    }
  }

  private classicToken(exchange: FakeExchange): void {
    const { grant_type, appid, secret } = exchange.query;
    if (appid) this.log.attribute(exchange.entry, appid.slice(0, 64));
    const refused = this.accounts.checkCredentials(grant_type, appid, secret);
    if (refused) return exchange.error(refused);
    const grant = this.accounts.issueClassic(appid, this.now());
    exchange.json(200, { access_token: grant.accessToken, expires_in: grant.expiresIn });
  }

  private async stableToken(exchange: FakeExchange): Promise<void> {
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
  private authenticate(exchange: FakeExchange): string | false {
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
  private accountOf(exchange: FakeExchange): string {
    const { access_token: token, appid } = exchange.query;
    const byToken = token ? this.accounts.check(token, this.now()).appId : undefined;
    return exchange.entry.appId ?? byToken ?? appid ?? this.appId;
  }

  private requireMethod(exchange: FakeExchange, method: 'GET' | 'POST'): boolean {
    const ok = exchange.method === method || (method === 'GET' && exchange.method === 'HEAD');
    if (!ok) exchange.error(method === 'GET' ? 43001 : 43002);
    return ok;
  }

  private takeFault(path: string): FakeFault | undefined {
    const index = this.faults.findIndex(({ fault }) => fault.path === undefined || fault.path === path);
    if (index < 0) return undefined;
    const queued = this.faults[index];
    if (--queued.left <= 0) this.faults.splice(index, 1);
    return queued.fault;
  }

  /** A delay that `close()` cuts short, so closing never waits for a fault. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.pendingDelays.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pendingDelays.add(wake);
    });
  }

  /** Unparseable HTTP (garbage headers, a query past the header limit): answer and hang up, never crash. */
  private onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ errcode: -1, errmsg: `bad request: ${error.code ?? 'unparseable'}` });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=UTF-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
}
