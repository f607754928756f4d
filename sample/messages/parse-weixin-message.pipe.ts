import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import type { WeixinMessage } from './weixin-message.interface';
import { parseWeixinMessageXml, WeixinMessageFormatError } from './weixin-message.xml';

/** Turns the callback's XML body into a `WeixinMessage`; 400 for anything else. */
@Injectable()
export class ParseWeixinMessagePipe implements PipeTransform<unknown, WeixinMessage> {
  transform(body: unknown): WeixinMessage {
    if (typeof body !== 'string' || body.trim() === '') {
      throw new BadRequestException('expected the XML message Weixin posts (<xml>...</xml>)');
    }
    try {
      return parseWeixinMessageXml(body);
    } catch (error) {
      if (error instanceof WeixinMessageFormatError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
