import type { FakeWeixinRequest } from './fake-weixin-request.interface';

/** The log keeps the latest entries only, so a benchmark cannot grow it without bound; counts stay exact. */
const REQUEST_LOG_LIMIT = 50_000;

/** Every request the fake received, with exact counts per path, overall and per account. */
export class FakeRequestLog {
  private log: FakeWeixinRequest[] = [];
  private readonly pathCounts = new Map<string, number>();
  /** appId → path → count. */
  private readonly accountCounts = new Map<string, Map<string, number>>();
  private total = 0;

  record(entry: FakeWeixinRequest): void {
    this.total++;
    this.pathCounts.set(entry.path, (this.pathCounts.get(entry.path) ?? 0) + 1);
    this.log.push(entry);
    // Trim in batches: amortised O(1) per request.
    if (this.log.length > 2 * REQUEST_LOG_LIMIT) this.log = this.log.slice(-REQUEST_LOG_LIMIT);
  }

  /** Marks `entry` as made for (or with a token of) the account `appId`; once per request. */
  attribute(entry: FakeWeixinRequest, appId: string): void {
    if (entry.appId !== undefined) return;
    entry.appId = appId;
    let counts = this.accountCounts.get(appId);
    if (!counts) this.accountCounts.set(appId, (counts = new Map()));
    counts.set(entry.path, (counts.get(entry.path) ?? 0) + 1);
  }

  /** Requests to `path` (all paths when omitted), of the account `appId` (any when omitted). */
  count(path?: string, appId?: string): number {
    const counts = appId === undefined ? this.pathCounts : this.accountCounts.get(appId);
    if (!counts) return 0;
    if (path !== undefined) return counts.get(path) ?? 0;
    if (appId === undefined) return this.total;
    let sum = 0;
    for (const count of counts.values()) sum += count;
    return sum;
  }

  /** The latest requests (up to 50,000), oldest first; a copy. */
  get entries(): readonly FakeWeixinRequest[] {
    return this.log.slice();
  }

  clear(): void {
    this.log = [];
    this.pathCounts.clear();
    this.accountCounts.clear();
    this.total = 0;
  }
}
