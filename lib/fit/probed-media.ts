/**
 * ffmpeg's description of its input (what `ffmpeg -i` prints before converting), read into fields.
 */

/** What ffmpeg reads from a source's headers. */
export interface ProbedMedia {
  /** The demuxer's first name: 'wav', 'mov', 'matroska', 'ogg', ... */
  container: string;
  /** Seconds, when the container says. */
  durationSeconds?: number;
  audio?: { codec: string; sampleRate?: number; channels?: string };
  video?: { codec: string; width: number; height: number; rotation: number };
}

export function parseProbe(stderr: string): ProbedMedia | undefined {
  const input = /^Input #0, ([^,\s]+)/m.exec(stderr);
  if (!input) return undefined;
  const probed: ProbedMedia = { container: input[1] };
  const duration = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (duration) {
    probed.durationSeconds = Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  }
  const audio = /Stream #0:\d+.*?: Audio: (\w+)[^\n]*/.exec(stderr);
  if (audio) {
    const rate = /, (\d+) Hz/.exec(audio[0]);
    const channels = /Hz, ([^,]+)/.exec(audio[0]);
    probed.audio = {
      codec: audio[1],
      sampleRate: rate ? Number(rate[1]) : undefined,
      channels: channels?.[1].trim(),
    };
  }
  const video = /Stream #0:\d+.*?: Video: (\w+)[^\n]*/.exec(stderr);
  if (video) {
    // A frame over `-max_pixels` is described without a size when only decoding it would tell (PNG in
    // Matroska); the refusal names it.
    const size =
      /, (\d{1,6})x(\d{1,6})/.exec(video[0]) ??
      /Picture size (\d{1,6})x(\d{1,6}) exceeds specified max pixel count/.exec(stderr);
    // A display matrix turns portrait phone video; ffmpeg applies it when it converts.
    const rotation = /rotation of (-?[\d.]+) degrees/.exec(stderr.slice(video.index));
    if (size) {
      probed.video = {
        codec: video[1],
        width: Number(size[1]),
        height: Number(size[2]),
        rotation: rotation ? Math.round(Number(rotation[1])) : 0,
      };
    }
  }
  return probed;
}

/** Width and height as shown, after the rotation ffmpeg applies. */
export function displayedSize(video: NonNullable<ProbedMedia['video']>): { width: number; height: number } {
  const quarterTurn = Math.abs(video.rotation) % 180 === 90;
  return quarterTurn
    ? { width: video.height, height: video.width }
    : { width: video.width, height: video.height };
}
