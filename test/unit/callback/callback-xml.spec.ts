import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallbackRefusedError } from '../../../lib/errors/callback-refused.error';
import {
  callbackEnvelopeFields,
  callbackReplyXml,
  callbackXml,
  parseCallbackXml,
} from '../../../lib/callback/callback-xml';
import { flatCallbackFields } from '../../../lib/callback/flat-callback-xml';
import { toWeixinMessage } from '../../../lib/callback/weixin-message.interface';

const HEADER =
  '<ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>' +
  '<CreateTime>1348831860</CreateTime>';

function refusedXml(xml: string, message: RegExp): void {
  assert.throws(
    () => parseCallbackXml(xml),
    (error: unknown) =>
      error instanceof CallbackRefusedError &&
      error.reason === 'xml' &&
      error.status === 400 &&
      message.test(error.message),
  );
}

describe('callback XML', () => {
  describe('parseCallbackXml', () => {
    it('keeps a 64-bit MsgId exact and every value as text', () => {
      const fields = parseCallbackXml(
        `<xml>${HEADER}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ 1e3 ]]></Content>` +
          '<MsgId>9223372036854775807</MsgId></xml>',
      );
      assert.deepEqual(fields, {
        ToUserName: 'gh_123',
        FromUserName: 'oUser',
        CreateTime: '1348831860',
        MsgType: 'text',
        Content: ' 1e3 ',
        MsgId: '9223372036854775807',
      });
      const message = toWeixinMessage(fields);
      assert.equal(message.CreateTime, 1348831860);
      assert.equal(message.MsgType === 'text' && message.MsgId, '9223372036854775807');
    });

    it('keeps nested event fields as nested objects (ScanCodeInfo, SendPicsInfo)', () => {
      const fields = parseCallbackXml(
        `<xml>${HEADER}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_weixin]]></Event>` +
          '<EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>' +
          '<ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo><SendPicsInfo><Count>2</Count><PicList>' +
          '<item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item>' +
          '</PicList></SendPicsInfo></xml>',
      );
      const event = toWeixinMessage(fields);
      assert.equal(event.MsgType, 'event');
      if (event.MsgType !== 'event') return;
      assert.deepEqual(event.ScanCodeInfo, { ScanType: 'qrcode', ScanResult: '1' });
      assert.deepEqual(event.SendPicsInfo, {
        Count: '2',
        PicList: { item: [{ PicMd5Sum: 'a' }, { PicMd5Sum: 'b' }] },
      });
      assert.equal(event.EventKey, '6');
    });

    it('refuses a DOCTYPE with an external entity (XXE) before parsing', () => {
      refusedXml(
        '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>',
        /DTD or entity declaration/,
      );
      refusedXml('<xml><A>1</A><!doctype x></xml>', /DTD or entity declaration/);
    });

    it('refuses billion laughs', () => {
      const entities = Array.from(
        { length: 10 },
        (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`,
      ).join('');
      refusedXml(
        `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${entities}]><xml><A>&lol10;</A></xml>`,
        /DTD or entity declaration/,
      );
    });

    it('reads text that only looks like a declaration inside CDATA (a user may write it)', () => {
      const fields = parseCallbackXml('<xml><Content><![CDATA[<!DOCTYPE html><!ENTITY x>]]></Content></xml>');
      assert.equal(fields.Content, '<!DOCTYPE html><!ENTITY x>');
    });

    it('never expands an entity reference', () => {
      assert.equal(parseCallbackXml('<xml><A>&amp;&x;</A></xml>').A, '&amp;&x;');
    });

    it('refuses what is not one <xml> root of fields', () => {
      refusedXml('', /not well-formed/);
      refusedXml('hello', /not well-formed/);
      refusedXml('<xml><A>1</xml>', /not well-formed/);
      refusedXml('<root><A>1</A></root>', /root element must be <xml> alone/);
      refusedXml('<xml><A>1</A></xml><y/>', /root element must be <xml> alone; found 2/);
      refusedXml('<xml>text</xml>', /holds text/);
      refusedXml('<xml>t<A>1</A></xml>', /text between its fields/);
      refusedXml('<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>', /<MsgType> appears 2 times/);
      refusedXml('<xml><__proto__><x>1</x></__proto__></xml>', /not well-formed/);
      refusedXml('<xml><A><![CDATA[open</A></xml>', /CDATA section is never closed/);
      assert.deepEqual(parseCallbackXml('<xml/>'), {});
      assert.deepEqual(
        parseCallbackXml('<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n <A> 1 </A>\n</xml>\n'),
        {
          A: '1',
        },
      );
    });

    it('refuses more than 256 elements or fields nested more than 8 deep', () => {
      const many = Array.from({ length: 256 }, (_, i) => `<F${i}>1</F${i}>`).join('');
      refusedXml(`<xml>${many}</xml>`, /more than 256 elements/);
      assert.equal(
        Object.keys(parseCallbackXml(`<xml>${many.slice(0, -'<F255>1</F255>'.length)}</xml>`)).length,
        255,
      );
      const deep = (levels: number): string => `${'<a>'.repeat(levels)}1${'</a>'.repeat(levels)}`;
      assert.ok(parseCallbackXml(`<xml>${deep(8)}</xml>`).a);
      refusedXml(`<xml>${deep(9)}</xml>`, /fields nested more than 8 deep/);
    });
  });

  describe('callbackEnvelopeFields', () => {
    it('reads Encrypt and ToUserName of an encrypted body', () => {
      assert.deepEqual(
        callbackEnvelopeFields(
          '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt></xml>',
        ),
        { Encrypt: 'abc=', ToUserName: 'gh_1', compat: false },
      );
      assert.deepEqual(callbackEnvelopeFields('<xml><Encrypt>abc=</Encrypt></xml>'), {
        Encrypt: 'abc=',
        compat: false,
      });
    });

    it('tells a compat body (plain fields beside Encrypt) from a safe-mode one', () => {
      const compat = '<xml><ToUserName>gh_1</ToUserName><Encrypt>abc=</Encrypt><MsgType>text</MsgType></xml>';
      assert.deepEqual(callbackEnvelopeFields(compat), { Encrypt: 'abc=', ToUserName: 'gh_1', compat: true });
    });

    it('refuses a body without <Encrypt>', () => {
      for (const body of [
        '<xml><ToUserName>gh</ToUserName></xml>',
        '<xml><Encrypt></Encrypt></xml>',
        '<xml><Encrypt><a>1</a></Encrypt></xml>',
      ]) {
        assert.throws(
          () => callbackEnvelopeFields(body),
          (error: unknown) =>
            error instanceof CallbackRefusedError && /non-empty <Encrypt>/.test(error.message),
        );
      }
    });
  });

  describe('callbackReplyXml', () => {
    const header = { ToUserName: 'oUser', FromUserName: 'gh_123', CreateTime: 1409304348 };
    const start =
      '<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_123]]></FromUserName>' +
      '<CreateTime>1409304348</CreateTime>';

    it('writes text, splitting a ]]> inside it, and reads it back the same', () => {
      const Content = 'a]]>b]]]]>c<![CDATA[d';
      const xml = callbackReplyXml(header, { MsgType: 'text', Content });
      assert.equal(
        xml,
        `${start}<MsgType><![CDATA[text]]></MsgType>` +
          '<Content><![CDATA[a]]]]><![CDATA[>b]]]]]]><![CDATA[>c<![CDATA[d]]></Content></xml>',
      );
      assert.equal(parseCallbackXml(xml).Content, Content);
    });

    it('nests media fields as Weixin wants them and leaves out empty nodes', () => {
      assert.equal(
        callbackReplyXml(header, { MsgType: 'image', MediaId: 'm1' }),
        `${start}<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[m1]]></MediaId></Image></xml>`,
      );
      assert.equal(
        callbackReplyXml(header, { MsgType: 'voice', MediaId: 'm2' }),
        `${start}<MsgType><![CDATA[voice]]></MsgType><Voice><MediaId><![CDATA[m2]]></MediaId></Voice></xml>`,
      );
      assert.equal(
        callbackReplyXml(header, { MsgType: 'video', MediaId: 'm3', Title: 'T', Description: '' }),
        `${start}<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[m3]]></MediaId>` +
          '<Title><![CDATA[T]]></Title></Video></xml>',
      );
      assert.equal(
        callbackReplyXml(header, {
          MsgType: 'music',
          ThumbMediaId: 't1',
          MusicUrl: 'http://m/1.mp3',
          HQMusicUrl: 'http://m/1hq.mp3',
          Description: 'D',
          Title: 'T',
        }),
        `${start}<MsgType><![CDATA[music]]></MsgType><Music><Title><![CDATA[T]]></Title>` +
          '<Description><![CDATA[D]]></Description><MusicUrl><![CDATA[http://m/1.mp3]]></MusicUrl>' +
          '<HQMusicUrl><![CDATA[http://m/1hq.mp3]]></HQMusicUrl><ThumbMediaId><![CDATA[t1]]></ThumbMediaId></Music></xml>',
      );
    });

    it('refuses CreateTime in milliseconds, an empty required field, an unknown type', () => {
      assert.throws(
        () => callbackReplyXml({ ...header, CreateTime: 1409304348000 }, { MsgType: 'text', Content: 'x' }),
        /CreateTime is whole seconds since 1970; got 1409304348000/,
      );
      assert.throws(() => callbackReplyXml(header, { MsgType: 'image', MediaId: '' }), /non-empty MediaId/);
      assert.throws(
        () => callbackReplyXml(header, { MsgType: 'news' } as never),
        /text, image, voice, video or music; got news/,
      );
    });

    it('writes any fields with callbackXml, refusing a name that is not XML', () => {
      assert.equal(
        callbackXml({ A: 'x', B: 2, C: undefined, D: { E: ['1', '2'] } }),
        '<xml><A><![CDATA[x]]></A><B>2</B><D><E><![CDATA[1]]></E><E><![CDATA[2]]></E></D></xml>',
      );
      assert.throws(() => callbackXml({ 'a><b': 'x' }), /not an XML element name/);
      assert.throws(() => callbackXml({ A: Number.NaN }), /finite number/);
    });
  });

  describe('toWeixinMessage', () => {
    it('refuses a body without the base fields or with a CreateTime that is not seconds', () => {
      const refused = (fields: Record<string, string>, message: RegExp): void =>
        assert.throws(
          () => toWeixinMessage(fields),
          (error: unknown) =>
            error instanceof CallbackRefusedError && error.reason === 'xml' && message.test(error.message),
        );
      refused({ ToUserName: 'gh' }, /no FromUserName, MsgType, CreateTime/);
      refused(
        { ToUserName: 'gh', FromUserName: 'o', MsgType: 'text', CreateTime: '1.5' },
        /CreateTime is whole seconds; got "1.5"/,
      );
    });

    it('keeps fields of types it does not list', () => {
      const message = toWeixinMessage({
        ToUserName: 'gh',
        FromUserName: 'o',
        MsgType: 'miniprogrampage',
        CreateTime: '1',
        Title: 't',
      });
      assert.deepEqual(message, {
        ToUserName: 'gh',
        FromUserName: 'o',
        MsgType: 'miniprogrampage',
        CreateTime: 1,
        Title: 't',
      });
    });
  });

  describe('flat bodies (read without the full parser)', () => {
    it('gives the fields the full parser gives: CDATA as it is, words trimmed, whitespace between fields', () => {
      const xml = `<xml>\n  <A><![CDATA[  a ]] > &amp; <!DOCTYPE x> ]]></A>\n\t<B> 12 </B><C></C><D><![CDATA[]]></D>\n</xml>\n`;
      const fields = { A: '  a ]] > &amp; <!DOCTYPE x> ', B: '12', C: '', D: '' };
      assert.deepEqual(flatCallbackFields(xml, 255), fields);
      assert.deepEqual(parseCallbackXml(xml), fields);
    });

    it('leaves every other shape to the full parser, which refuses or reads it as before', () => {
      const declined = [
        '<xml><A><![CDATA[a]]]]><![CDATA[>b]]></A></xml>',
        '<xml><A>a &amp; b</A></xml>',
        '<xml><A><![CDATA[a\r\nb]]></A></xml>',
        '<xml><A>1</A><A>2</A></xml>',
        '<xml><constructor>1</constructor></xml>',
        '<xml><__proto__>1</__proto__></xml>',
        '<!DOCTYPE x><xml><A>1</A></xml>',
        '<xml><A>1</A></xml>x',
        '<xml><A/></xml>',
        `<xml>${Array.from({ length: 256 }, (_, i) => `<F${i}>1</F${i}>`).join('')}</xml>`,
      ];
      for (const xml of declined) assert.equal(flatCallbackFields(xml, 255), undefined, xml);
      assert.deepEqual(parseCallbackXml(declined[0]), { A: 'a]]>b' });
      refusedXml(declined[3], /appears 2 times/);
      refusedXml(declined[5], /not well-formed/);
      refusedXml(declined[6], /DTD or entity declaration/);
      refusedXml(declined[9], /more than 256 elements/);
    });
  });
});
