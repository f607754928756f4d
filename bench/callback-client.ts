import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** A 200 answer's body, as the client read it off the wire. */
export interface RawAnswer {
  status: number;
  body: string;
}

/**
 * The benchmark's load: HTTP/1.1 POSTs written whole on keep-alive sockets, one request at a time on each.
 * The server shares this machine's two cores with the client, so the client must cost little: Node's
 * `http.request` took about 110 µs of CPU a message, as much as half of what the server spent, and when the
 * machine was busy the two fought for a core, which pulled every ratio towards 1. Written whole and read
 * with a minimal parser (status, `Content-Length` or chunked), a message costs the client about 40 µs.
 */
export class RawHttpClient {
  private readonly idle: RawConnection[] = [];

  constructor(
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  /** The bytes of a POST of `body` (text/xml) to `target`: made before a round, so they cost it nothing. */
  static post(target: string, body: string): Buffer {
    const content = Buffer.from(body);
    const head =
      `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n` +
      `Content-Length: ${content.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), content]);
  }

  /** Sends `request` on an idle socket (or a new one) and resolves to the answer. */
  async send(request: Buffer): Promise<RawAnswer> {
    let connection = this.idle.pop();
    if (!connection || connection.closed) connection = new RawConnection(this.port, this.host);
    const answer = await connection.send(request);
    this.idle.push(connection);
    return answer;
  }

  close(): void {
    for (const connection of this.idle.splice(0)) connection.close();
  }
}

class RawConnection {
  closed = false;
  private readonly socket: Socket;
  private received: Buffer | undefined;
  private pending: { resolve(answer: RawAnswer): void; reject(error: Error): void } | undefined;

  constructor(port: number, host: string) {
    this.socket = connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('the server closed the connection before answering'));
    });
  }

  send(request: Buffer): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.received = undefined;
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.received = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    let answer: RawAnswer | undefined;
    try {
      answer = parseAnswer(this.received);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (!answer || !this.pending) return;
    const { resolve } = this.pending;
    this.pending = undefined;
    this.received = undefined;
    resolve(answer);
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

/** The answer in `bytes` once it is whole; `undefined` while more is to come. */
function parseAnswer(bytes: Buffer): RawAnswer | undefined {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const head = bytes.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headEnd + HEAD_END.length;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length) {
    const bodyEnd = bodyStart + Number(length[1]);
    return bytes.length < bodyEnd ? undefined : { status, body: bytes.toString('utf8', bodyStart, bodyEnd) };
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) {
    throw new Error(`an answer with neither Content-Length nor chunked framing: ${head}`);
  }
  const chunks: Buffer[] = [];
  for (let at = bodyStart; ;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.toString('latin1', at, lineEnd), 16);
    // The last chunk (size 0) and the blank line after it.
    if (size === 0) {
      return bytes.length < lineEnd + 4
        ? undefined
        : { status, body: Buffer.concat(chunks).toString('utf8') };
    }
    const dataEnd = lineEnd + 2 + size;
    if (bytes.length < dataEnd + 2) return undefined;
    chunks.push(bytes.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}
