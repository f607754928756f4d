import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FakeAccounts } from './fake-accounts';
import {
  FakeCallbackDelivery,
  type FakeDeliverOptions,
  type FakeDelivery,
  type FakeInboundMessage,
} from './fake-callback-delivery';
import { FakeApiRoutes } from './fake-api-routes';
import { answerClientError, FakeExchange } from './fake-exchange';
import type { FakeFault } from './fake-fault.interface';
import { FakeFaults } from './fake-faults';
import { type FakeFollower, FakeFollowers } from './fake-followers';
import { FakeMediaEndpoints } from './fake-media-endpoints';
import { type FakeMedia, FakeMediaStore } from './fake-media-store';
import { FakeMessageEndpoints, type FakeSentMessage } from './fake-message-endpoints';
import { FakeQuotaLedger } from './fake-quota';
import { FakeRequestLog } from './fake-request-log';
import { FakeRidLog } from './fake-rid-log';
import { FakeTokenEndpoints } from './fake-token-endpoints';
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

/**
 * A real HTTP server on 127.0.0.1 that answers like the Weixin API: access tokens (classic and stable),
 * temporary media upload and download, customer-service messages and typing, with Weixin's error codes, a fake clock, injected faults and a log
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
  protected readonly messages: FakeMessageEndpoints;
  private readonly log = new FakeRequestLog();
  private readonly tokens: FakeTokenEndpoints;
  private readonly faults = new FakeFaults();
  private readonly routes: FakeApiRoutes;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
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
    const now = () => this.now();
    this.messages = new FakeMessageEndpoints(this.followers, this.media, now, options.messagesPerWindow ?? 5);
    this.tokens = new FakeTokenEndpoints(this.accounts, this.log, now);
    this.routes = new FakeApiRoutes(this.tokens, this.endpoints, this.messages, this.quotas, this.rids, now);

    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', answerClientError);
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
      this.faults.wakeAll();
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

  /** Forgets tokens, media, followers, sent messages, faults, the request log and the clock offset; the accounts stay. */
  reset(): void {
    this.accounts.clearTokens();
    this.media.clear();
    this.quotas.clear();
    this.rids.clear();
    this.followers.clear();
    this.messages.clear();
    this.faults.clear();
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

  /**
   * Plays `fault` on the next matching request(s). On `custom/send` a delay, reset or status is played after
   * the fake accepted and recorded the message (Weixin acted on it; its answer came late or was lost), while
   * an errcode is Weixin refusing it (nothing recorded).
   */
  injectFault(fault: FakeFault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
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

  /** The customer-service messages the fake accepted, oldest first: of `openId`, of the account `appId`. */
  sentMessages(filter: { openId?: string; appId?: string } = {}): FakeSentMessage[] {
    return this.messages.sentMessages(filter);
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
      this.rids.record(rid, this.tokens.accountOf(exchange, this.appId), exchange, body, this.now());
    this.handle(exchange).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      exchange.error(-1, `fake server bug: ${message}`, 500);
    });
  }

  protected async handle(exchange: FakeExchange): Promise<void> {
    const fault = this.faults.take(exchange.path);
    if (fault && exchange.path === FAKE_WEIXIN_PATHS.customSend && fault.errcode === undefined) {
      return this.routes.route(exchange, () => this.faults.play(exchange, fault));
    }
    if (fault && (await this.faults.play(exchange, fault))) return;
    await this.routes.route(exchange);
  }
}
