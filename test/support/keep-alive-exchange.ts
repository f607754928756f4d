import { connect } from 'node:net';

export interface FramedResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
  /** False when the connection closed before the body its framing announced (or chunked's last chunk). */
  complete: boolean;
}

/**
 * GETs `paths` one after another over ONE keep-alive connection to 127.0.0.1:`port`, reading each answer by its
 * own framing (Content-Length or chunked), byte by byte as a client would: whatever follows one answer's end is
 * read as the next answer. Stops at an answer cut short.
 */
export async function keepAliveExchange(port: number, paths: string[]): Promise<FramedResponse[]> {
  const socket = connect(port, '127.0.0.1');
  let buffered: Buffer = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);

  /** Waits until `take` finds what it needs in the buffer; undefined when the connection closed first. */
  const next = async <T>(take: () => T | undefined): Promise<T | undefined> => {
    for (;;) {
      const taken = take();
      if (taken !== undefined || closed) return taken;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const bytes = (count: number) => () => {
    if (buffered.length < count) return undefined;
    const taken = buffered.subarray(0, count);
    buffered = buffered.subarray(count);
    return taken;
  };
  const until = (marker: string) => () => {
    const at = buffered.indexOf(marker);
    return at < 0
      ? undefined
      : bytes(at + marker.length)()!
          .subarray(0, at)
          .toString('latin1');
  };

  const responses: FramedResponse[] = [];
  try {
    for (const path of paths) {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
      const head = await next(until('\r\n\r\n'));
      if (head === undefined) break;
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const response = { status: Number(statusLine.split(' ')[1]), headers, complete: false };
      const body: Buffer[] = [];
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        for (;;) {
          const size = await next(until('\r\n'));
          if (size === undefined) break;
          const length = parseInt(size, 16);
          const chunk = await next(bytes(length + 2));
          if (chunk === undefined) break;
          if (length === 0) {
            response.complete = true;
            break;
          }
          body.push(chunk.subarray(0, length));
        }
      } else {
        const chunk = await next(bytes(Number(headers['content-length'] ?? 0)));
        if (chunk !== undefined) body.push(chunk);
        response.complete = chunk !== undefined;
      }
      responses.push({ ...response, body: Buffer.concat(body) });
      if (!response.complete) break;
    }
  } finally {
    socket.destroy();
  }
  return responses;
}
