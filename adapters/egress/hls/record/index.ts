/**
 * Recording: broadcasts written from the relay as CMAF fMP4 (one segment per GOP, packaged by
 * the HLS packager), durable on disk, served as VOD HLS. See README.md.
 */
export { Recorder, type RecorderOptions } from './recorder.ts';
