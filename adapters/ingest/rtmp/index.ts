/** RTMP / RTMPS / E-RTMP ingest: encoders publish `rtmp://host/<app>/<stream>` into a MediaSink. */
export { RtmpIngest, type RtmpIngestOptions } from './rtmp-ingest.ts';
export type { OpenPublisher, RtmpPublishRequest } from './rtmp-session.ts';
export type { StructuredLogger } from './logger.ts';
