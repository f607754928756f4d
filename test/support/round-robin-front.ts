import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';

export interface RoundRobinFront {
  /** The front's callback URL (`/weixin/callback`). */
  url: string;
  close(): Promise<void>;
}

/** A TCP front that hands each new connection to the next instance in turn, as a load balancer would. */
export async function roundRobin(ports: number[]): Promise<RoundRobinFront> {
  let next = 0;
  const server: Server = createServer((client) => {
    const upstream = createConnection(ports[next++ % ports.length], '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/weixin/callback`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
