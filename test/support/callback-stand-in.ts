/**
 * A stand-in for an app's Weixin callback: a bare `node:http` server on 127.0.0.1 that checks what it is
 * posted with its own small reading of the protocol (node:crypto alone, not the library's), records every
 * request, and answers as the test says. For the fake's `deliver` and anything that posts like Weixin.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';

export interface StandInSettings {
  token: string;
  encodingAESKey?: string;
  appId: string;
}

export interface StandInRequest {
  query: Record<string, string>;
  body: string;
  /** The body's fields as posted. */
  posted: Record<string, any>;
  /** The message: the decrypted `Encrypt` when there is one, else the posted fields. */
  message: Record<string, any>;
  /** What the stand-in found wrong (signature, msg_signature, receiveid); empty when all held. */
  problems: string[];
}

/**
 * How to answer the `index`-th request (0-based): status and body (encrypted and signed, with `replyToken`
 * instead of the Token if given), or hang (never answer).
 */
export type StandInAnswer =
  { status?: number; body?: string; encrypt?: boolean; replyToken?: string } | 'hang';

const parser = new XMLParser({ parseTagValue: false, processEntities: false });

export function sha1Sorted(...parts: string[]): string {
  return createHash('sha1').update(parts.sort().join('')).digest('hex');
}

function aesKey(encodingAESKey: string): Buffer {
  return Buffer.from(`${encodingAESKey}=`, 'base64');
}

export function openEncrypt(encodingAESKey: string, encrypt: string): { xml: string; receiveId: string } {
  const key = aesKey(encodingAESKey);
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const length = plain.readUInt32BE(16);
  return {
    xml: plain.subarray(20, 20 + length).toString('utf8'),
    receiveId: plain.subarray(20 + length, plain.length - plain[plain.length - 1]).toString('utf8'),
  };
}

export function sealXml(encodingAESKey: string, xml: string, receiveId: string): string {
  const key = aesKey(encodingAESKey);
  const body = Buffer.from(xml);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([randomBytes(16), length, body, Buffer.from(receiveId)]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([
    cipher.update(plain),
    cipher.update(Buffer.alloc(pad, pad)),
    cipher.final(),
  ]).toString('base64');
}

export class CallbackStandIn {
  readonly requests: StandInRequest[] = [];
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly settings: StandInSettings,
    private readonly answer: (index: number, request: StandInRequest) => StandInAnswer,
  ) {}

  static async start(
    settings: StandInSettings,
    answer: (index: number, request: StandInRequest) => StandInAnswer,
  ): Promise<CallbackStandIn> {
    const server = createServer();
    const standIn = new CallbackStandIn(server, settings, answer);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => standIn.take(req.url ?? '/', Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/weixin/callback?account=1`;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take(url: string, body: string, res: ServerResponse): void {
    const query = Object.fromEntries(new URL(url, 'http://x').searchParams);
    const posted = (parser.parse(body) as { xml: Record<string, any> }).xml;
    const { token, encodingAESKey, appId } = this.settings;
    const problems: string[] = [];
    if (query.signature !== sha1Sorted(token, query.timestamp, query.nonce)) problems.push('signature');
    let message = posted;
    if (query.encrypt_type === 'aes' && encodingAESKey) {
      if (query.msg_signature !== sha1Sorted(token, query.timestamp, query.nonce, posted.Encrypt)) {
        problems.push('msg_signature');
      }
      const opened = openEncrypt(encodingAESKey, posted.Encrypt);
      if (opened.receiveId !== appId) problems.push('receiveid');
      message = (parser.parse(opened.xml) as { xml: Record<string, any> }).xml;
    }
    const request: StandInRequest = { query, body, posted, message, problems };
    this.requests.push(request);
    const answer =
      problems.length > 0
        ? { status: 401, body: problems.join() }
        : this.answer(this.requests.length - 1, request);
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    let text = answer.body ?? 'success';
    if (answer.encrypt && encodingAESKey) {
      const encrypt = sealXml(encodingAESKey, text, appId);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = '1320562132';
      text =
        `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><MsgSignature><![CDATA[${sha1Sorted(answer.replyToken ?? token, timestamp, nonce, encrypt)}]]>` +
        `</MsgSignature><TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`;
    }
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/xml' }).end(text);
  }
}
