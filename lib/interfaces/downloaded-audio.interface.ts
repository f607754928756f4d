/** What `downloadAudio` writes: 16-bit PCM WAV (what speech-to-text APIs take) or MP3. */
export type AudioFormat = 'wav' | 'mp3';

export interface AudioDownloadOptions {
  /**
   * The container of the decoded audio: mono 16-bit PCM in WAV, or mono MP3.
   * @default 'wav'
   */
  format?: AudioFormat;
  /**
   * Samples per second of the decoded audio: 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000.
   * @default 16000
   */
  sampleRate?: number;
  /**
   * Download the JS-SDK's high-definition recording (`media/get/jssdk`: 16 kHz wideband Speex) instead of
   * the voice `media/get` answers (AMR or MP3).
   * @default false
   */
  hd?: boolean;
  /** Aborts the download, the wait for a conversion slot and the decoding. */
  signal?: AbortSignal;
}

/** Voice downloaded from Weixin and decoded for speech recognition. */
export interface DownloadedAudio {
  mediaId: string;
  format: AudioFormat;
  data: Buffer;
  /** Playing time of `data`. */
  durationMs: number;
  /** What Weixin answered: 'amr', 'amr-wb', 'mp3', 'speex', ... */
  from: string;
}
