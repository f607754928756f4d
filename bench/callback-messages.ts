import { randomInt } from 'node:crypto';
import { WeixinCallbackCrypto } from '../lib/callback/callback-crypto';
import { callbackXml } from '../lib/callback/callback-xml';

/** The server settings both callbacks of the benchmark share. */
export const SETTINGS = {
  token: 'benchToken42',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wxbench000000000001',
} as const;
export const OUR_PATH = '/weixin/callback';
export const WECHAT_PATH = '/wechat';
const ACCOUNT = 'gh_0123456789ab';
const OPEN_ID = 'oBench00000000000000000000001';

/** A safe-mode POST as Weixin sends it: query (signed) and body (encrypted). */
export interface SignedMessage {
  /** `?signature=...&timestamp=...&nonce=...&openid=...&encrypt_type=aes&msg_signature=...` */
  search: string;
  body: string;
  content: string;
}

export const weixinCrypto = new WeixinCallbackCrypto({
  token: SETTINGS.token,
  encodingAESKey: SETTINGS.encodingAESKey,
  receiveId: SETTINGS.appId,
});

let nextMsgId = 2n ** 60n + BigInt(randomInt(1e9)) * 1_000_000n;

/** `count` safe-mode text messages signed now, each with its own MsgId and nonce. */
export function signedMessages(count: number): SignedMessage[] {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return Array.from({ length: count }, () => {
    const msgId = String(nextMsgId++);
    const content = `Hello, my order ${msgId.slice(-5)} has not arrived yet. 你好`;
    const xml = callbackXml({
      ToUserName: ACCOUNT,
      FromUserName: OPEN_ID,
      CreateTime: Number(timestamp),
      MsgType: 'text',
      Content: content,
      MsgId: msgId,
    });
    const nonce = String(randomInt(100_000_000, 1_000_000_000));
    const encrypt = weixinCrypto.encrypt(xml);
    const query = new URLSearchParams({
      signature: weixinCrypto.signature(timestamp, nonce),
      timestamp,
      nonce,
      openid: OPEN_ID,
      encrypt_type: 'aes',
      msg_signature: weixinCrypto.msgSignature(timestamp, nonce, encrypt),
    });
    return { search: `?${query}`, body: callbackXml({ ToUserName: ACCOUNT, Encrypt: encrypt }), content };
  });
}

/** The text of an encrypted passive reply, as Weixin reads it. */
export function replyContent(body: string): string | undefined {
  const encrypt = /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(body)?.[1];
  if (!encrypt) return undefined;
  return /<Content><!\[CDATA\[(.*?)\]\]><\/Content>/s.exec(weixinCrypto.decrypt(encrypt))?.[1];
}

/** What both bots answer. */
export function echo(content: string): string {
  return `echo: ${content}`;
}
