/** One request the fake received, as its request log records it. Bodies are never recorded. */
export interface FakeWeixinRequest {
  method: string;
  /** The path without the query, e.g. `/cgi-bin/media/upload`. */
  path: string;
  /** The query as received (tests need the access token to check which one was used). */
  query: Record<string, string>;
  /** When it arrived, on the fake clock (ms). */
  at: number;
  /**
   * The account the request was for: the `appid` of a token request, the owner of the access token of
   * an API call. Unset when the fake could not tell (no or unknown token, a fault answered first).
   */
  appId?: string;
  /** The HTTP status answered; 0 while unanswered, for a reset connection, or when the client went away. */
  status: number;
  /** The errcode answered; 0 or undefined on success. */
  errcode?: number;
  /** Uploads: the `type` query parameter. */
  mediaType?: string;
  /** Uploads: the filename of the `media` part. */
  filename?: string;
  /** Uploads: bytes received in the `media` part (counting stops one byte past the type's size limit). */
  bytes?: number;
}
