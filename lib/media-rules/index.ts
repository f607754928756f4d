export * from './media-limits';
export * from './media-content';
export { openFileContent } from './file-content';
export { assertMediaType, inspectMediaContent, tooLargeError } from './inspect-media';
export { detectFormat, sniffContent, SNIFF_BYTES, type DetectedFormat } from './format-sniffer';
export { weixinFilename } from './weixin-filename';
