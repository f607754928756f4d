import type { WeixinAccounts } from './weixin-accounts';

/**
 * `target` bound to one Official Account: every method, on `target` itself, runs inside that account's
 * context (its token, lock and reuse entries), including methods added later. What `forAccount(appId)` answers.
 */
export function boundToAccount<T extends object>(target: T, accounts: WeixinAccounts, appId: string): T {
  return new Proxy(target, {
    get(bound, key) {
      const value: unknown = Reflect.get(bound, key, bound);
      if (typeof value !== 'function' || key === 'constructor') return value;
      return (...args: unknown[]) =>
        accounts.run(appId, () => (value as (...a: unknown[]) => unknown).apply(bound, args));
    },
  });
}
