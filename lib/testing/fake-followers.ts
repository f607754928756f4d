/** A user who follows an account, as the fake knows them. */
export interface FakeFollower {
  readonly openId: string;
  readonly appId: string;
  /** When the user last wrote to the account (fake clock); unset for a follower who never wrote. */
  readonly lastMessageAt?: Date;
}

/**
 * The users following each account: who may be sent a customer-service message, and when each last wrote
 * (the 48-hour window opens then). `deliver` makes its sender a follower who just wrote.
 */
export class FakeFollowers {
  /** appId → openId → follower. */
  private readonly byAccount = new Map<string, Map<string, FakeFollower>>();

  /** Adds a follower, or updates when the known one last wrote. */
  add(appId: string, openId: string, lastMessageAt?: Date): FakeFollower {
    if (typeof openId !== 'string' || openId === '')
      throw new TypeError('a follower needs a non-empty openId');
    if (
      lastMessageAt !== undefined &&
      !(lastMessageAt instanceof Date && !Number.isNaN(lastMessageAt.getTime()))
    ) {
      throw new TypeError(`lastMessageAt must be a valid Date; got ${String(lastMessageAt)}`);
    }
    let followers = this.byAccount.get(appId);
    if (!followers) this.byAccount.set(appId, (followers = new Map()));
    const wrote = lastMessageAt ?? followers.get(openId)?.lastMessageAt;
    const follower: FakeFollower = wrote ? { openId, appId, lastMessageAt: wrote } : { openId, appId };
    followers.set(openId, Object.freeze(follower));
    return follower;
  }

  /** An unsubscribe: the user is no longer reachable. */
  remove(appId: string, openId: string): void {
    this.byAccount.get(appId)?.delete(openId);
  }

  get(appId: string, openId: string): FakeFollower | undefined {
    return this.byAccount.get(appId)?.get(openId);
  }

  clear(): void {
    this.byAccount.clear();
  }
}
