/**
 * The one thing the shared UDP port needs to know about a STUN message before werift sees it:
 * is it a Binding request, and which of our ICE sessions does its USERNAME name.
 */

const HEADER_BYTES = 20;
const MAGIC_COOKIE = 0x2112a442; // RFC 8489 §5
const BINDING_REQUEST = 0x0001; // method Binding, class request (RFC 8489 §5, §18.1)
const ATTR_USERNAME = 0x0006; // RFC 8489 §14.3
const MAX_USERNAME_BYTES = 513; // RFC 8489 §14.3

/** RFC 7983 §7: a first byte of 0..3 is STUN (DTLS is 20..63, RTP/RTCP 128..191). */
export function looksLikeStun(datagram: Uint8Array): boolean {
  return datagram.length >= HEADER_BYTES && datagram[0]! < 4;
}

/**
 * The local (our) ufrag of a STUN Binding request: its USERNAME is `<our ufrag>:<their ufrag>`
 * (RFC 8445 §7.2.2). Undefined for anything else, including malformed messages.
 */
export function bindingRequestUfrag(datagram: Uint8Array): string | undefined {
  if (!looksLikeStun(datagram)) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (view.getUint16(0) !== BINDING_REQUEST || view.getUint32(4) !== MAGIC_COOKIE) return undefined;
  const length = view.getUint16(2);
  if (length % 4 !== 0 || HEADER_BYTES + length > datagram.length) return undefined;
  const end = HEADER_BYTES + length;
  let pos = HEADER_BYTES;
  while (pos + 4 <= end) {
    const type = view.getUint16(pos);
    const attrLength = view.getUint16(pos + 2);
    const valueStart = pos + 4;
    if (valueStart + attrLength > end) return undefined;
    if (type === ATTR_USERNAME) {
      if (attrLength === 0 || attrLength > MAX_USERNAME_BYTES) return undefined;
      const username = new TextDecoder().decode(datagram.subarray(valueStart, valueStart + attrLength));
      const colon = username.indexOf(':');
      return colon > 0 ? username.slice(0, colon) : undefined;
    }
    pos = valueStart + Math.ceil(attrLength / 4) * 4; // attributes are padded to 4 bytes
  }
  return undefined;
}
