import { SdpError } from './errors.ts';
import { attributeValues, type SdpMediaSection } from './sdp.ts';

/** RTP-specific attributes of a media section: rtpmap, fmtp, rtcp-fb and direction. */

export interface RtpMap {
  payloadType: number;
  /** Encoding name as written (case varies: `H264`, `opus`, `VP8`). */
  encoding: string;
  clockRate: number;
  /** Encoding parameters: the channel count for audio. */
  channels: number | undefined;
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Largest clock rate accepted: every real RTP clock is far below this. */
const MAX_CLOCK_RATE = 10_000_000;

/** RTP payload types are 7 bits (RFC 3550 §5.1). */
function parsePayloadType(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) > 127) throw new SdpError(`invalid RTP payload type "${text}"`);
  return Number(text);
}

/** The payload types of an RTP m= line. */
export function payloadTypes(section: SdpMediaSection): number[] {
  return section.formats.map(parsePayloadType);
}

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`, RFC 8866 §6.6. */
export function readRtpMaps(section: SdpMediaSection): Map<number, RtpMap> {
  const maps = new Map<number, RtpMap>();
  for (const value of attributeValues(section.lines, 'rtpmap')) {
    const match = /^(\d{1,3}) ([^\s/]+)\/(\d{1,8})(?:\/(\d{1,3}))?$/.exec(value);
    if (!match) throw new SdpError(`malformed a=rtpmap:${value}`);
    const payloadType = parsePayloadType(match[1]!);
    const clockRate = Number(match[3]);
    if (clockRate < 1 || clockRate > MAX_CLOCK_RATE) throw new SdpError(`invalid clock rate in a=rtpmap:${value}`);
    const channels = match[4] === undefined ? undefined : Number(match[4]);
    if (channels !== undefined && (channels < 1 || channels > 255)) throw new SdpError(`invalid channel count in a=rtpmap:${value}`);
    if (maps.has(payloadType)) throw new SdpError(`duplicate a=rtpmap for payload type ${payloadType}`);
    maps.set(payloadType, { payloadType, encoding: match[2]!, clockRate, channels });
  }
  return maps;
}

/** Format parameters by lowercased name; a parameter without `=` maps to ''. */
export type FormatParameters = Map<string, string>;

/** `a=fmtp:<payload type> <parameters>`, RFC 8866 §6.15; parameters `name=value` joined by `;`. */
export function readFmtp(section: SdpMediaSection): Map<number, FormatParameters> {
  const all = new Map<number, FormatParameters>();
  for (const value of attributeValues(section.lines, 'fmtp')) {
    const space = value.indexOf(' ');
    if (space < 0) throw new SdpError(`malformed a=fmtp:${value}`);
    const payloadType = parsePayloadType(value.slice(0, space));
    if (all.has(payloadType)) throw new SdpError(`duplicate a=fmtp for payload type ${payloadType}`);
    all.set(payloadType, parseFormatParameters(value.slice(space + 1)));
  }
  return all;
}

function parseFormatParameters(text: string): FormatParameters {
  const params: FormatParameters = new Map();
  for (const part of text.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    if (name === '') throw new SdpError(`malformed format parameter "${item}"`);
    params.set(name, eq < 0 ? '' : item.slice(eq + 1).trim());
  }
  return params;
}

/** The payload type an `a=rtcp-fb` (RFC 4585 §4.2) or `a=fmtp`/`a=rtpmap` value refers to, or '*'. */
export function attributePayloadType(value: string): string {
  const space = value.indexOf(' ');
  return space < 0 ? value : value.slice(0, space);
}

/** The section's direction attribute; sendrecv when absent (RFC 8866 §6.7). */
export function readDirection(section: SdpMediaSection): MediaDirection {
  const found = (['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const).filter((d) => attributeValues(section.lines, d).length > 0);
  if (found.length > 1) throw new SdpError('media section has more than one direction attribute');
  return found[0] ?? 'sendrecv';
}
