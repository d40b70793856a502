import { SdpError } from './errors.ts';

/**
 * A minimal SDP reader/writer (RFC 8866): enough structure to validate a WHIP offer, pick its
 * codecs and rewrite it, while every line we do not interpret passes through unchanged.
 */

export interface SdpLine {
  /** One lowercase letter (RFC 8866 §5: `<type>=<value>`). */
  type: string;
  value: string;
}

export interface SdpMediaSection {
  /** `audio`, `video`, `application`, ... */
  kind: string;
  port: number;
  /** The optional `/<number of ports>` suffix of the port, kept verbatim. */
  portSuffix: string;
  /** e.g. `UDP/TLS/RTP/SAVPF`. */
  protocol: string;
  /** Media formats: RTP payload type numbers for RTP profiles. */
  formats: string[];
  /** Every line after `m=` up to the next `m=`, in order. */
  lines: SdpLine[];
}

export interface SdpDocument {
  /** Session-level lines, `v=` first. */
  session: SdpLine[];
  media: SdpMediaSection[];
}

export interface SdpLimits {
  maxLines: number;
  maxLineLength: number;
  maxMediaSections: number;
}

export const DEFAULT_SDP_LIMITS: SdpLimits = { maxLines: 4096, maxLineLength: 4096, maxMediaSections: 16 };

const LINE_TYPE = /^[a-z]$/;
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
/** Control characters other than tab have no place in an SDP value. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Split SDP text into typed lines; CRLF per RFC 8866 §5, bare LF tolerated as §5 suggests. */
export function parseSdpLines(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): SdpLine[] {
  const raw = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  while (raw.length > 0 && raw[raw.length - 1] === '') raw.pop(); // the final CRLF (and stray blank lines after it)
  if (raw.length > limits.maxLines) throw new SdpError(`SDP has more than ${limits.maxLines} lines`);
  const lines: SdpLine[] = [];
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    if (line === '') throw new SdpError(`empty SDP line ${i + 1}`);
    if (line.length > limits.maxLineLength) throw new SdpError(`SDP line ${i + 1} longer than ${limits.maxLineLength} characters`);
    const type = line[0]!;
    if (!LINE_TYPE.test(type) || line[1] !== '=') throw new SdpError(`SDP line ${i + 1} is not <type>=<value>`);
    const value = line.slice(2);
    if (CONTROL.test(value)) throw new SdpError(`SDP line ${i + 1} contains control characters`);
    lines.push({ type, value });
  }
  return lines;
}

/** Parse a complete session description: `v=0` first, `o=`, `s=` and `t=` present (RFC 8866 §5). */
export function parseSdp(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): SdpDocument {
  const lines = parseSdpLines(text, limits);
  if (lines[0]?.type !== 'v' || lines[0].value !== '0') throw new SdpError('SDP must start with v=0');
  const doc: SdpDocument = { session: [], media: [] };
  let current: SdpMediaSection | undefined;
  for (const line of lines) {
    if (line.type === 'm') {
      if (doc.media.length >= limits.maxMediaSections) throw new SdpError(`SDP has more than ${limits.maxMediaSections} media sections`);
      current = parseMediaLine(line.value);
      doc.media.push(current);
    } else if (current) {
      current.lines.push(line);
    } else {
      doc.session.push(line);
    }
  }
  for (const required of ['o', 's', 't']) {
    if (!doc.session.some((l) => l.type === required)) throw new SdpError(`SDP lacks the session-level ${required}= line`);
  }
  return doc;
}

/** `m=<media> <port>[/<number>] <proto> <fmt> ...`, RFC 8866 §5.14. */
function parseMediaLine(value: string): SdpMediaSection {
  const parts = value.split(' ');
  if (parts.length < 4) throw new SdpError(`malformed m= line "${value}"`);
  const [kind, portField, protocol, ...formats] = parts as [string, string, string, ...string[]];
  if (!TOKEN.test(kind)) throw new SdpError(`malformed media type in m= line "${value}"`);
  const portMatch = /^(\d{1,5})(\/\d{1,5})?$/.exec(portField);
  const port = portMatch ? Number(portMatch[1]) : Number.NaN;
  if (!portMatch || port > 65535) throw new SdpError(`malformed port in m= line "${value}"`);
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(protocol)) throw new SdpError(`malformed protocol in m= line "${value}"`);
  if (formats.some((f) => !TOKEN.test(f))) throw new SdpError(`malformed format list in m= line "${value}"`);
  return { kind, port, portSuffix: portMatch[2] ?? '', protocol, formats, lines: [] };
}

export function serializeSdp(doc: SdpDocument): string {
  const out: string[] = [];
  const put = (l: SdpLine): void => {
    out.push(`${l.type}=${l.value}`);
  };
  doc.session.forEach(put);
  for (const m of doc.media) {
    out.push(`m=${m.kind} ${m.port}${m.portSuffix} ${m.protocol} ${m.formats.join(' ')}`);
    m.lines.forEach(put);
  }
  return `${out.join('\r\n')}\r\n`;
}

/** An `a=` line split into attribute name and value (RFC 8866 §5.13: `a=<name>[:<value>]`). */
export interface SdpAttribute {
  name: string;
  value: string | undefined;
}

export function toAttribute(line: SdpLine): SdpAttribute | undefined {
  if (line.type !== 'a') return undefined;
  const colon = line.value.indexOf(':');
  return colon < 0 ? { name: line.value, value: undefined } : { name: line.value.slice(0, colon), value: line.value.slice(colon + 1) };
}

/** Values of every `a=<name>:<value>` among the lines (flags give ''). */
export function attributeValues(lines: readonly SdpLine[], name: string): string[] {
  const values: string[] = [];
  for (const line of lines) {
    const attr = toAttribute(line);
    if (attr?.name === name) values.push(attr.value ?? '');
  }
  return values;
}

export function hasAttribute(lines: readonly SdpLine[], name: string): boolean {
  return attributeValues(lines, name).length > 0;
}

/** A media-level attribute, falling back to the session level (ICE and DTLS attributes may sit at either). */
export function sectionAttribute(doc: SdpDocument, section: SdpMediaSection, name: string): string | undefined {
  return attributeValues(section.lines, name)[0] ?? attributeValues(doc.session, name)[0];
}
