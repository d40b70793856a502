/**
 * HLS and Low-Latency HLS egress: CMAF cut from the relay's groups, per broadcast and only
 * while watched. Mount `handle` at `/hls/`; see README.md for URLs and player support.
 */
export { createHlsService, type HlsService, type HlsServiceOptions, type HlsStats } from './hls-service.ts';
export type { SessionStats, RenditionStats } from './broadcast-session.ts';
export { parseHlsPath } from './hls-urls.ts';
