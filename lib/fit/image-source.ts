import { join } from 'node:path';
import { MediaFitError } from '../errors/media-fit.error';
import type { MediaType } from '../interfaces/media.interface';
import type { FfmpegDiscovery } from './ffmpeg-engine';
import { probeMedia } from './ffmpeg-probe';
import { lastMessage, runFfmpeg, safeInput } from './ffmpeg-runner';
import { fitImage, fitThumb, readImageHeader, type ImageFitResult } from './image-fit';
import { assertFramePixels } from './pixel-limit';
import { requireSharp } from './sharp-engine';

export interface ImageSourceRun {
  type: Extract<MediaType, 'image' | 'thumb'>;
  source: string;
  workDir: string;
  maxInputPixels: number;
  timeoutMs: number;
  signal?: AbortSignal;
  ffmpeg: () => Promise<FfmpegDiscovery>;
}

/**
 * Fits an image file: decoded by sharp, or, for what sharp does not read here (BMP), first turned into a
 * PNG by ffmpeg once its header shows a pixel count within the limit.
 */
export async function fitImageSource(
  run: ImageSourceRun,
): Promise<ImageFitResult & { engineFormat: string }> {
  const sharp = requireSharp(`fitting ${run.type}`);
  let input = run.source;
  let header;
  try {
    header = await readImageHeader(sharp, input, run.type, run.maxInputPixels);
  } catch (error) {
    if (!(error instanceof MediaFitError) || error.reason !== 'unsupported-input') throw error;
    input = await decodeWithFfmpeg(run, error);
    header = await readImageHeader(sharp, input, run.type, run.maxInputPixels);
  }
  const fit = run.type === 'thumb' ? fitThumb : fitImage;
  const result = await fit(sharp, input, header, run.maxInputPixels, run.signal);
  return { ...result, engineFormat: input === run.source ? header.format : 'bmp' };
}

async function decodeWithFfmpeg(run: ImageSourceRun, refusal: MediaFitError): Promise<string> {
  const { engine } = await run.ffmpeg();
  if (!engine) throw refusal;
  const probed = await probeMedia(engine, run.source, run.type, run.maxInputPixels, run.signal).catch(
    () => undefined,
  );
  const video = probed?.video;
  // Only still-image demuxers: a video handed in as an image stays refused.
  if (!video || !probed.container.endsWith('_pipe')) throw refusal;
  assertFramePixels(run.type, video, run.maxInputPixels);
  const output = join(run.workDir, 'decoded.png');
  const { exitCode, stderr } = await runFfmpeg(engine.path, {
    args: [
      ...safeInput(run.source, run.maxInputPixels),
      ...['-frames:v', '1', '-c:v', 'png', '-f', 'image2', '-y', `file:${output}`],
    ],
    type: run.type,
    timeoutMs: run.timeoutMs,
    signal: run.signal,
  });
  if (exitCode !== 0) {
    throw new MediaFitError('failed', `ffmpeg could not decode this ${run.type}: ${lastMessage(stderr)}`, {
      type: run.type,
    });
  }
  return output;
}
