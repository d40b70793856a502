import { MediaParseError } from '../../../src/media/errors.ts';
import type { AudioTrackInfo } from '../../../src/media/frame.ts';
import { buildOpusHead } from '../../../src/media/opus.ts';
import type { FrameNormalizer, NormalizedFrame } from './frame-normalizer.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';

/** Channels a packet codes, from the TOC byte's stereo flag (RFC 6716 §3.1). */
export function opusPacketChannels(packet: Uint8Array): 1 | 2 {
  if (packet.length === 0) throw new MediaParseError('empty Opus packet');
  return packet[0]! & 0x04 ? 2 : 1;
}

/**
 * Opus packets (RFC 7587) pass through. SDP always says opus/48000/2 (RFC 7587 §7), so the
 * channel count comes from the packets: mono until a stereo packet arrives.
 */
export class OpusNormalizer implements FrameNormalizer {
  #channels: 1 | 2 | undefined;

  normalize(frame: CodecFrame): NormalizedFrame | undefined {
    if (frame.data.length === 0) return undefined; // RFC 7587 §4.2: nothing to decode
    const channels = opusPacketChannels(frame.data);
    let info: AudioTrackInfo | undefined;
    if (this.#channels === undefined || channels > this.#channels) {
      this.#channels = channels;
      info = { kind: 'audio', codec: 'opus', description: buildOpusHead(channels, 48000), sampleRate: 48000, numberOfChannels: channels };
    }
    return { payload: frame.data, keyframe: true, ...(info ? { info } : {}) };
  }
}
