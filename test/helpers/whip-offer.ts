import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

/** A werift client's complete offer (host candidates included); its sockets are closed again. */
export async function clientOffer(video: 'H264' | 'none' = 'H264'): Promise<string> {
  const pc = new RTCPeerConnection({
    iceAdditionalHostAddresses: ['127.0.0.1'],
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'packetization-mode=1;profile-level-id=42e01f', rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] })],
    },
  });
  try {
    pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    if (video !== 'none') pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    return await completeOffer(pc);
  } finally {
    await pc.close();
  }
}

/** `pc`'s offer once ICE gathering is complete (every host candidate in it: WHIP sends no trickle here). */
export async function completeOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
    pc.iceGatheringStateChange.subscribe(check);
    check();
  });
  return pc.localDescription!.sdp;
}
