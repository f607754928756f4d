import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges a server-side fetch must not reach unless the user allows it: unspecified, private,
 * carrier-grade NAT, loopback, link-local (the cloud metadata service at 169.254.169.254 among them),
 * IETF protocol assignments, benchmarking, multicast and reserved.
 */
const PRIVATE_IPV4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/**
 * IPv6 ranges refused as such: unspecified, loopback, discard-only, documentation, unique local,
 * link-local, site-local, multicast, and NAT64 local-use (RFC 8215), whose translator is inside the
 * network and puts the IPv4 address where its operator chose, so its target cannot be told.
 */
const PRIVATE_IPV6: readonly (readonly [string, number])[] = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['64:ff9b:1::', 48],
];

/**
 * IPv6 forms that carry an IPv4 address the connection ends up at: each private IPv4 range is refused
 * inside them too. Each gives the IPv6 subnet holding an IPv4 subnet.
 */
const IPV4_EMBEDDINGS: readonly ((network: string, prefix: number) => [string, number])[] = [
  // IPv4-compatible ::/96, IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96.
  (network, prefix) => [`::${network}`, 96 + prefix],
  (network, prefix) => [`::ffff:${network}`, 96 + prefix],
  (network, prefix) => [`::ffff:0:${network}`, 96 + prefix],
  (network, prefix) => [`64:ff9b::${network}`, 96 + prefix],
  // 6to4 2002::/16: the IPv4 address is bits 16 to 47.
  (network, prefix) => [`2002:${hexGroups(network)}::`, 16 + prefix],
];

const refused = new BlockList();
for (const [network, prefix] of PRIVATE_IPV4) {
  refused.addSubnet(network, prefix, 'ipv4');
  for (const embed of IPV4_EMBEDDINGS) refused.addSubnet(...embed(network, prefix), 'ipv6');
}
for (const [network, prefix] of PRIVATE_IPV6) refused.addSubnet(network, prefix, 'ipv6');

/** True for an address a URL source may not connect to without `allowPrivateUrls`. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family === 6) return refused.check(address, 'ipv6');
  return true; // not an address at all: refuse rather than guess
}

/** `10.1.2.3` as `a01:203`: the two IPv6 groups holding it. */
function hexGroups(ipv4: string): string {
  const [a, b, c, d] = ipv4.split('.').map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}
