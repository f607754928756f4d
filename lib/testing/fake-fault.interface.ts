/**
 * A failure the fake plays instead of (or before) its normal answer. Faults queue in the order injected;
 * the first one that matches a request and has `times` left applies.
 */
export interface FakeFault {
  /**
   * The API path to hit, e.g. `/cgi-bin/media/upload` (no query).
   * @default any path
   */
  path?: string;
  /**
   * How many matching requests it applies to.
   * @default 1
   */
  times?: number;
  /** Answer this errcode as HTTP 200 JSON (or with `status`, when both are set). */
  errcode?: number;
  /**
   * The errmsg for `errcode`.
   * @default Weixin's usual message for the code
   */
  errmsg?: string;
  /**
   * The caller address Weixin reports: in 40164's errmsg (`{ errcode: 40164 }` names it) and the rid record.
   * @default the connection's address (127.0.0.1)
   */
  callerIp?: string;
  /** Answer this HTTP status with a short body (an nginx-like HTML page unless `errcode` is set too). */
  status?: number;
  /** Wait this long before answering; alone, the request is then answered normally. */
  delayMs?: number;
  /** Destroy the socket without answering (the client sees a connection reset). */
  reset?: boolean;
}
