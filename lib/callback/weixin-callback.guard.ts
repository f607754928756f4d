import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { CallbackRefusedError } from '../errors/callback-refused.error';
import { nodeRequest } from '../controller/http-platform';
import { CallbackAccounts } from './callback-accounts';
import { readCallbackBody } from './callback-body.reader';
import type { WeixinCallbackCrypto } from './callback-crypto';
import { callbackEnvelopeFields, parseCallbackXml } from './callback-xml';
import {
  resolveCallbackOptions,
  WEIXIN_CALLBACK_OPTIONS,
  type ResolvedCallbackOptions,
  type WeixinCallbackOptions,
} from './weixin-callback.options';
import { toWeixinMessage, type WeixinMessage, type WeixinMessageMode } from './weixin-message.interface';

/** A callback request the guard let through: who it is for and, for a POST, the message. */
export interface VerifiedCallback {
  appId: string;
  crypto: WeixinCallbackCrypto;
  /** The request's nonce: an encrypted reply is signed with it. */
  nonce: string;
  /** Epoch ms when the guard started on it: `replyWithinMs` counts from here. */
  receivedAt: number;
  /** Of a GET. */
  echostr?: string;
  /** Of a POST. */
  mode?: WeixinMessageMode;
  message?: WeixinMessage;
}

const VERIFIED = Symbol.for('nestjs-weixin-media.verified-callback');

/** What the guard found for this request (set once it let it through). */
export function verifiedCallback(request: unknown): VerifiedCallback {
  const verified = (nodeRequest(request) as unknown as Record<symbol, VerifiedCallback | undefined>)[
    VERIFIED
  ];
  if (!verified) throw new Error('the callback route runs behind WeixinCallbackGuard');
  return verified;
}

/**
 * Every check of a callback request before any handler runs: the account (404 for an unknown AppID), the
 * timestamp within `maxClockSkewMs`, the body (64 KB, 5 s), its XML (no DTD or entities), and its signature in
 * constant time: `signature` in plain mode (and the URL check), `msg_signature` over `Encrypt` in compat and
 * safe mode (which covers all `signature` does, as Tencent's WXBizMsgCrypt reads it). Then the mode the
 * account chose (plain without an EncodingAESKey, encrypted with one), the padding and the receiveid. A
 * refusal is a `CallbackRefusedError` (401, 400, 413 or 408), answered by the callback's filter.
 */
@Injectable()
export class WeixinCallbackGuard implements CanActivate {
  protected readonly logger = new Logger('WeixinCallback');
  protected readonly settings: ResolvedCallbackOptions;

  constructor(
    @Inject(CallbackAccounts) protected readonly accounts: CallbackAccounts,
    @Inject(WEIXIN_CALLBACK_OPTIONS) options: WeixinCallbackOptions,
  ) {
    this.settings = resolveCallbackOptions(options);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const receivedAt = Date.now();
    const http = context.switchToHttp();
    const request = http.getRequest<{ params?: Record<string, string>; body?: unknown }>();
    const raw = nodeRequest(request);
    const query = queryOf(raw.url ?? '');
    const crypto = await this.accounts.crypto(request.params?.appId);
    const timestamp = query.get('timestamp') ?? '';
    const nonce = query.get('nonce') ?? '';
    const verified: VerifiedCallback = { appId: crypto.receiveId, crypto, nonce, receivedAt };
    const encryptType = raw.method === 'GET' ? null : query.get('encrypt_type');
    if (encryptType === null || encryptType === 'raw') {
      if (!crypto.verifySignature(query.get('signature') ?? '', timestamp, nonce)) {
        throw new CallbackRefusedError(
          'signature',
          'the signature does not verify: is the Token the one of the server settings?',
        );
      }
      this.checkTimestamp(timestamp, receivedAt);
      if (raw.method === 'GET') {
        verified.echostr = query.get('echostr') ?? '';
      } else {
        if (crypto.encrypted) {
          throw new CallbackRefusedError(
            'mode',
            'this account chose encryption (it has an EncodingAESKey): a plain request is refused',
          );
        }
        verified.mode = 'plain';
        verified.message = plainMessage(await readCallbackBody(raw, request.body));
      }
    } else {
      if (encryptType !== 'aes') {
        const got = JSON.stringify(encryptType.slice(0, 16));
        throw new CallbackRefusedError('mode', `encrypt_type must be aes; got ${got}`);
      }
      this.checkTimestamp(timestamp, receivedAt);
      const body = await readCallbackBody(raw, request.body);
      const signed = { timestamp, nonce, msgSignature: query.get('msg_signature') ?? '' };
      Object.assign(verified, this.encryptedMessage(body, signed, crypto));
    }
    (raw as unknown as Record<symbol, VerifiedCallback>)[VERIFIED] = verified;
    return true;
  }

  protected checkTimestamp(timestamp: string, now: number): void {
    const skew = /^\d{1,12}$/.test(timestamp) ? Math.abs(now - Number(timestamp) * 1000) : Infinity;
    if (skew > this.settings.maxClockSkewMs) {
      const off = Number.isFinite(skew) ? `${Math.round(skew / 1000)} s from now` : 'not seconds';
      throw new CallbackRefusedError(
        'timestamp',
        `the timestamp is ${off}; at most ${this.settings.maxClockSkewMs / 1000} s is accepted`,
      );
    }
  }

  /** A compat or safe mode message: its `msg_signature`, then the account's mode and the plaintext. */
  protected encryptedMessage(
    body: string,
    signed: { timestamp: string; nonce: string; msgSignature: string },
    crypto: WeixinCallbackCrypto,
  ): { mode: WeixinMessageMode; message: WeixinMessage } {
    const { Encrypt, compat } = callbackEnvelopeFields(body);
    const { msgSignature, timestamp, nonce } = signed;
    if (!crypto.verifyMsgSignature(msgSignature, timestamp, nonce, Encrypt)) {
      throw new CallbackRefusedError('msg-signature', 'msg_signature does not verify over the Encrypt field');
    }
    if (!crypto.encrypted) {
      this.logger.warn(
        `An encrypted (compat or safe mode) request reached account ${crypto.receiveId}, which has no ` +
          'EncodingAESKey: set it (callback.encodingAESKey or WEIXIN_ENCODING_AES_KEY) or choose plain mode',
      );
      throw new CallbackRefusedError('mode', 'this account takes plain mode only: it has no EncodingAESKey');
    }
    // A compat body's plain fields are not covered by msg_signature: the handler gets the decrypted ones.
    const message = toWeixinMessage(parseCallbackXml(crypto.decrypt(Encrypt)));
    return { mode: compat ? 'compat' : 'safe', message };
  }
}

/** A plain-mode message (its `signature` verified). */
function plainMessage(body: string): WeixinMessage {
  const fields = parseCallbackXml(body);
  if (fields.Encrypt !== undefined && fields.MsgType === undefined) {
    throw new CallbackRefusedError(
      'xml',
      'the body is encrypted but the request has no encrypt_type=aes: this account takes plain mode',
    );
  }
  return toWeixinMessage(fields);
}

/** The query of a request target (`/path?a=1`): the framework's parsed `query` differs between adapters. */
function queryOf(url: string): URLSearchParams {
  const question = url.indexOf('?');
  return new URLSearchParams(question < 0 ? '' : url.slice(question + 1));
}
