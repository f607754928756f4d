/**
 * Redis keys of the stores. The AppID goes into a hash tag (`weixin-media:{wx123}:token:stable`): Redis
 * Cluster places a key by the part in braces, so a token, its lock and the scripts that touch them all live
 * in one slot, and every key of an account stays on one node.
 */
export function appTaggedKey(prefix: string, kind: string, key: string): string {
  // The stores' keys start with the AppID: `${appId}:${tokenMode}`, `${appId}:${type}:${sha256}`.
  const mark = key.indexOf(':');
  const appId = mark < 0 ? key : key.slice(0, mark);
  const rest = mark < 0 ? '' : `:${key.slice(mark + 1)}`;
  return `${prefix}{${appId}}:${kind}${rest}`;
}
