/**
 * SETTINGS frame payload (RFC 9114 §7.2.4): a sequence of (identifier, value) varint pairs.
 */
import { ByteCursor } from './byte-cursor.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { encodeParts } from '../../wire/byte-writer.ts';

export const SettingId = {
  /** RFC 9204 §5 */
  QpackMaxTableCapacity: 0x01,
  MaxFieldSectionSize: 0x06,
  QpackBlockedStreams: 0x07,
  /** RFC 9220 §3: extended CONNECT. */
  EnableConnectProtocol: 0x08,
  /** RFC 9297 §2.1.1 */
  H3Datagram: 0x33,
  /** draft-ietf-webtrans-http3-02 §3.1 (what Chromium negotiates by default). */
  EnableWebTransportDraft02: 0x2b603742,
} as const;

/** RFC 9114 §7.2.4.1: identifiers reserved because they were HTTP/2 settings. */
const HTTP2_SETTING_IDS: ReadonlySet<number> = new Set([0x02, 0x03, 0x04, 0x05]);

export function encodeSettings(settings: ReadonlyMap<number, number>): Uint8Array {
  const parts: number[] = [];
  for (const [id, value] of settings) parts.push(id, value);
  return encodeParts(...parts);
}

export function decodeSettings(payload: Uint8Array): Map<number, number> {
  const cursor = new ByteCursor(payload, H3ErrorCode.FrameError);
  const settings = new Map<number, number>();
  while (!cursor.atEnd) {
    const id = cursor.varint('setting identifier');
    const value = cursor.varint('setting value');
    if (HTTP2_SETTING_IDS.has(id)) throw new Http3Error(H3ErrorCode.SettingsError, `HTTP/2 setting 0x${id.toString(16)}`);
    if (settings.has(id)) throw new Http3Error(H3ErrorCode.SettingsError, `duplicate setting 0x${id.toString(16)}`);
    settings.set(id, value);
  }
  return settings;
}
