export * from './media-limits';
export * from './media-content';
export { openFileContent } from './file-content';
export { assertMediaType, inspectMediaContent, tooLargeError, type MeasuredSize } from './inspect-media';
export { detectFormat, sniffContent, SNIFF_BYTES, type DetectedFormat } from './format-sniffer';
export { weixinFilename } from './weixin-filename';
