/**
 * Redis keys of the stores. The AppID goes into a hash tag (`weixin-media:{wx123}:token:stable`): Redis
 * Cluster places a key by the part in braces, so a token, its lock, a reuse entry, its media_id index and the
 * scripts that touch them all live in one slot, and every key of an account stays on one node.
 */
export function appTaggedKey(prefix: string, kind: string, key: string): string {
  const appId = keyAppId(key);
  return `${prefix}{${appId}}:${kind}${key.slice(appId.length)}`;
}

/**
 * The AppID a store's key starts with: `${appId}:${tokenMode}`, `${appId}:${type}:${sha256}`,
 * `${appId}:${mediaId}`.
 */
export function keyAppId(key: string): string {
  const mark = key.indexOf(':');
  return mark < 0 ? key : key.slice(0, mark);
}
