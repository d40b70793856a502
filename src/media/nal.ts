import { MediaParseError } from './errors.ts';

/**
 * NAL unit framing shared by H.264 and H.265: Annex B byte streams (start codes, what RTP
 * depacketizers and raw .h264 files give) and length-prefixed samples (ISO/IEC 14496-15, what
 * the frame model, FLV and MP4 carry). Returned NAL units are views into the input, not copies.
 */

/** Lengths the 14496-15 lengthSizeMinusOne field can express. */
function checkLengthSize(lengthSize: number): void {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 3 && lengthSize !== 4) {
    throw new MediaParseError(`invalid NAL length size ${lengthSize}`);
  }
}

/**
 * Split an Annex B byte stream on 00 00 01 and 00 00 00 01 start codes. Bytes before the first
 * start code and trailing zero bytes of each unit (trailing_zero_8bits, the extra 00 of a 4-byte
 * start code) are dropped: a NAL unit never ends in 0x00 (H.264 7.4.1, H.265 7.4.2).
 */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let start = -1;
  const push = (end: number): void => {
    while (end > start && data[end - 1] === 0) end--;
    if (end > start) units.push(data.subarray(start, end));
  };
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i + 2]! > 1) {
      i += 3; // no start code can begin at i, i+1 or i+2
    } else if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) push(i);
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0) push(data.length);
  return units;
}

/** Concatenate NAL units, each behind a big-endian length of `lengthSize` bytes. */
export function joinLengthPrefixed(units: readonly Uint8Array[], lengthSize = 4): Uint8Array {
  checkLengthSize(lengthSize);
  const limit = 2 ** (8 * lengthSize);
  let total = 0;
  for (const unit of units) {
    if (unit.length >= limit) throw new MediaParseError(`NAL unit of ${unit.length} bytes exceeds ${lengthSize}-byte length`);
    total += lengthSize + unit.length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const unit of units) {
    for (let b = lengthSize - 1; b >= 0; b--) out[pos++] = Math.floor(unit.length / 2 ** (8 * b)) & 0xff;
    out.set(unit, pos);
    pos += unit.length;
  }
  return out;
}

export function annexBToLengthPrefixed(data: Uint8Array, lengthSize = 4): Uint8Array {
  return joinLengthPrefixed(splitAnnexB(data), lengthSize);
}

/**
 * Split a length-prefixed sample. A length that overruns the sample throws; zero-length
 * entries (seen from some RTMP encoders) are skipped.
 */
export function splitLengthPrefixed(data: Uint8Array, lengthSize = 4): Uint8Array[] {
  checkLengthSize(lengthSize);
  const units: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + lengthSize > data.length) throw new MediaParseError('truncated NAL length field');
    let length = 0;
    for (let b = 0; b < lengthSize; b++) length = length * 256 + data[pos + b]!;
    pos += lengthSize;
    if (length > data.length - pos) throw new MediaParseError(`NAL length ${length} overruns sample`);
    if (length > 0) units.push(data.subarray(pos, pos + length));
    pos += length;
  }
  return units;
}

/** Length-prefixed sample -> Annex B with 4-byte start codes. */
export function lengthPrefixedToAnnexB(data: Uint8Array, lengthSize = 4): Uint8Array {
  const units = splitLengthPrefixed(data, lengthSize);
  let total = 0;
  for (const unit of units) total += 4 + unit.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const unit of units) {
    out[pos + 3] = 1;
    out.set(unit, pos + 4);
    pos += 4 + unit.length;
  }
  return out;
}

/** Byte-wise equality, for spotting repeated or changed in-band parameter sets. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
