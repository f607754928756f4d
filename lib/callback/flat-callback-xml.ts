import type { CallbackXmlFields } from './callback-xml';

/**
 * The shape of nearly every callback body: `<xml>` holding flat fields, each a CDATA section or a word
 * (`<CreateTime>1700000000</CreateTime>`). Anything else (nesting, entities, attributes, a declaration,
 * `\r`, a repeated or inherited name, more fields than the full parser allows) is left to it.
 */
const OPEN = /^[ \t\n]*<xml>/y;
const FIELD =
  /[ \t\n]*<([A-Za-z][A-Za-z0-9]*)>(?:<!\[CDATA\[([^\]\r]*(?:\](?!\]>)[^\]\r]*)*)\]\]>|[ \t\n]*([\w.+-]*)[ \t\n]*)<\/\1>/y;
const CLOSE = /[ \t\n]*<\/xml>[ \t\n]*$/y;

/**
 * The fields of a flat callback body, read with one sticky pattern: the same fields `parseCallbackXml`'s
 * full parser gives for such a body, at a fraction of its CPU (bench/callback.bench.ts, "withoutHttp").
 * `undefined` when the body is not of that shape: then the full parser decides.
 */
export function flatCallbackFields(xml: unknown, maxFields: number): CallbackXmlFields | undefined {
  if (typeof xml !== 'string') return undefined;
  OPEN.lastIndex = 0;
  if (!OPEN.test(xml)) return undefined;
  const fields: CallbackXmlFields = {};
  let at = OPEN.lastIndex;
  for (let count = 0; ; count++) {
    CLOSE.lastIndex = at;
    if (CLOSE.test(xml)) return fields;
    FIELD.lastIndex = at;
    const field = FIELD.exec(xml);
    if (!field || count >= maxFields || field[1] in fields) return undefined;
    fields[field[1]] = field[2] ?? field[3];
    at = FIELD.lastIndex;
  }
}
