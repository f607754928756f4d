import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress } from '../../../lib/media-source/private-address';

/** Each address, and why a URL source must not (or may) connect to it. */
function classifies(expected: boolean, cases: Record<string, string>): void {
  for (const [address, why] of Object.entries(cases)) {
    it(`${address}: ${why}`, () => assert.equal(isPrivateAddress(address), expected));
  }
}

describe('isPrivateAddress', () => {
  describe('refuses IPv4', () => {
    classifies(true, {
      '0.0.0.0': 'unspecified',
      '0.1.2.3': '"this network"',
      '10.1.2.3': 'private 10/8',
      '100.64.0.1': 'carrier-grade NAT',
      '100.127.255.254': 'carrier-grade NAT, last host',
      '127.0.0.1': 'loopback',
      '127.255.255.254': 'loopback, anywhere in 127/8',
      '169.254.169.254': 'link-local: the cloud metadata service',
      '172.16.0.1': 'private 172.16/12',
      '172.31.255.255': 'private 172.16/12, last address',
      '192.0.0.8': 'IETF protocol assignments',
      '192.168.1.1': 'private 192.168/16',
      '198.18.0.1': 'benchmarking',
      '224.0.0.1': 'multicast',
      '239.255.255.250': 'multicast (SSDP)',
      '240.0.0.1': 'reserved',
      '255.255.255.255': 'broadcast',
    });
  });

  describe('refuses IPv6', () => {
    classifies(true, {
      '::': 'unspecified',
      '::1': 'loopback',
      '100::1': 'discard-only',
      '2001:db8::1': 'documentation',
      'fc00::1': 'unique local',
      'fd00::1': 'unique local',
      'fe80::1': 'link-local',
      'fe80::1%eth0': 'link-local with a zone',
      'fec0::1': 'site-local',
      'ff02::1': 'multicast',
    });
  });

  describe('refuses IPv6 forms that carry a private IPv4 address', () => {
    classifies(true, {
      '::127.0.0.1': 'IPv4-compatible, dotted',
      '::7f00:1': 'IPv4-compatible, hex (what URL makes of [::127.0.0.1])',
      '::a00:1': 'IPv4-compatible 10.0.0.1',
      '::ffff:127.0.0.1': 'IPv4-mapped, dotted',
      '::ffff:7f00:1': 'IPv4-mapped, hex',
      '::ffff:a9fe:a9fe': 'IPv4-mapped metadata service',
      '::ffff:0:7f00:1': 'IPv4-translated loopback',
      '::ffff:0:192.168.0.1': 'IPv4-translated private',
      '64:ff9b::a00:1': 'NAT64 well-known prefix, 10.0.0.1',
      '64:ff9b::127.0.0.1': 'NAT64 well-known prefix, loopback',
      '64:ff9b:1::a00:1': 'NAT64 local-use prefix',
      '64:ff9b:1:ffff::8.8.8.8': 'NAT64 local-use prefix, whatever it embeds',
      '2002:7f00:1::': '6to4 of 127.0.0.1',
      '2002:a00:1::1': '6to4 of 10.0.0.1',
      '2002:c0a8:101::1': '6to4 of 192.168.1.1',
      '2002:a9fe:a9fe::': '6to4 of the metadata service',
    });
  });

  describe('refuses what is not an address', () => {
    classifies(true, { '': 'empty', localhost: 'a name', '127.1': 'not a full IPv4 address' });
  });

  describe('allows public addresses', () => {
    classifies(false, {
      '8.8.8.8': 'public IPv4',
      '203.0.113.9': 'outside every refused range',
      '100.128.0.1': 'just past carrier-grade NAT',
      '172.32.0.1': 'just past 172.16/12',
      '2001:4860:4860::8888': 'public IPv6',
      '::ffff:8.8.8.8': 'IPv4-mapped public',
      '::ffff:0:808:808': 'IPv4-translated public',
      '64:ff9b::808:808': 'NAT64 well-known prefix, public',
      '2002:808:808::1': '6to4 of a public address',
      '64:ff9b:2::1': 'past the NAT64 local-use /48',
    });
  });
});
