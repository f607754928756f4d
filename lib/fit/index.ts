export { FIT_DEFAULTS, MediaFitter, type FitInput, type FitOutcome, type FitRequest } from './media-fitter';
export { findFfmpeg, INSTALL_FFMPEG, type FfmpegDiscovery, type FfmpegEngine } from './ffmpeg-engine';
