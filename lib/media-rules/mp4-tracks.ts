import type { ContentWindow } from './content-window';

/**
 * The tracks of an MP4 file: moov → trak → mdia → hdlr, whose handler type says what a track carries
 * ('vide', 'soun', 'text', ...). Only box headers and the handler type are read, and the walk stops at the
 * first video track: the sample tables that make moov large are jumped over, never read.
 */

export interface IsoBox {
  type: string;
  offset: number;
  /** Bytes including the box header; a box of declared size 0 runs to the end of its parent or file. */
  size: number;
  /** 8, or 16 with a 64-bit `largesize`. */
  headerBytes: number;
}

export interface Mp4Tracks {
  /** The handler type of each track read, in file order, up to the first video track ('vide'). */
  handlers: string[];
  /** Why the walk stopped before it read every track, when a box could not be read. */
  damage?: string;
}

/** Headers read inside moov: a track needs about six, so this is room for over a hundred tracks. */
const MAX_BOXES = 1024;

/** Reads the handler of each track in `moov`, until the first video track. */
export async function readMp4Tracks(
  window: ContentWindow,
  moov: IsoBox,
  contentSize: number,
): Promise<Mp4Tracks> {
  const walk = new BoxWalk(window, contentSize);
  const handlers: string[] = [];
  for await (const trak of walk.children(moov)) {
    if (trak.type !== 'trak') continue;
    const handler = await walk.handlerOf(trak);
    if (handler === undefined) continue;
    handlers.push(handler);
    if (handler === 'vide') break;
  }
  return walk.damage === undefined ? { handlers } : { handlers, damage: walk.damage };
}

export function printableFourcc(fourcc: string): string {
  return fourcc.replace(/[^\x20-\x7e]/g, '?');
}

/** Walks boxes inside boxes within a budget of headers; the first box it cannot read ends a parent's walk. */
class BoxWalk {
  damage?: string;
  private headers = 0;

  constructor(
    private readonly window: ContentWindow,
    private readonly contentSize: number,
  ) {}

  /** The handler type in the track's mdia/hdlr; undefined when it has none. */
  async handlerOf(trak: IsoBox): Promise<string | undefined> {
    for await (const mdia of this.children(trak)) {
      if (mdia.type !== 'mdia') continue;
      for await (const hdlr of this.children(mdia)) {
        if (hdlr.type !== 'hdlr') continue;
        // A full box: version and flags, pre_defined (QuickTime's component type), then the handler type.
        const at = hdlr.offset + hdlr.headerBytes + 8;
        const handler = at + 4 <= hdlr.offset + hdlr.size ? await this.window.bytesAt(at, 4) : undefined;
        if (handler?.length === 4) return printableFourcc(handler.toString('latin1'));
        this.damage ??= `its track handler (hdlr) box at byte ${hdlr.offset} is cut short`;
        return undefined;
      }
      return undefined;
    }
    return undefined;
  }

  /** The boxes inside `parent`, read from their headers. */
  async *children(parent: IsoBox): AsyncGenerator<IsoBox> {
    const end = parent.offset + parent.size;
    let offset = parent.offset + parent.headerBytes;
    while (offset + 8 <= end) {
      if (++this.headers > MAX_BOXES) {
        this.damage ??= `its track list (moov) holds more than ${MAX_BOXES} boxes`;
        return;
      }
      const header = await this.window.bytesAt(offset, 16);
      if (header.length < 8 || (header.readUInt32BE(0) === 1 && header.length < 16)) {
        this.damage ??= `it ends at byte ${this.contentSize}, inside its track list (moov)`;
        return;
      }
      const type = printableFourcc(header.toString('latin1', 4, 8));
      const declared = header.readUInt32BE(0);
      const headerBytes = declared === 1 ? 16 : 8;
      const size =
        declared === 1 ? Math.min(Number(header.readBigUInt64BE(8)), Number.MAX_SAFE_INTEGER) : declared;
      const box = { type, offset, size: declared === 0 ? end - offset : size, headerBytes };
      if (box.size < headerBytes || offset + box.size > end) {
        this.damage ??=
          `the ${type} box at byte ${offset} declares ${box.size} bytes, ` +
          `which do not fit in the ${parent.type} box around it`;
        return;
      }
      yield box;
      offset += box.size;
    }
  }
}
