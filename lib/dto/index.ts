export * from './upload-media.dto';
