export interface FakeWeixinServerOptions {
  /**
   * TCP port on 127.0.0.1.
   * @default 0 (a free port; read it from `baseUrl`)
   */
  port?: number;
  /**
   * The Official Account's appId the fake accepts.
   * @default 'wx0fa4e5c1d2b3a4f5'
   */
  appId?: string;
  /**
   * The appSecret the fake accepts.
   * @default 'fake-app-secret-0123456789abcdef'
   */
  appSecret?: string;
  /**
   * More Official Accounts to serve beside `appId`, each with its own tokens and media (`addAccount()`
   * adds one later).
   * @default none
   */
  accounts?: ReadonlyArray<{ appId: string; appSecret: string }>;
  /**
   * Lifetime of every access token, in seconds of the fake clock.
   * @default 7200
   */
  tokenLifetimeSeconds?: number;
  /**
   * Upper bound for the bytes of all stored media together; past it the oldest media are forgotten
   * (they answer 40007 as if expired). Keeps long benchmarks from exhausting memory.
   * @default 536870912 (512 MiB)
   */
  maxStoredBytes?: number;
  /**
   * Uploads per account per day (midnight Beijing time on the fake clock) before uploads answer 45009;
   * `quota/get` reports it as `daily_limit`.
   * @default 100000
   */
  dailyUploadQuota?: number;
  /**
   * Customer-service messages each follower may be sent after one message of theirs (within the 48 hours)
   * before sends answer 45047. Weixin's current documentation says 5; older documentation says 20.
   * @default 5
   */
  messagesPerWindow?: number;
}
