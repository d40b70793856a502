/** The part of a werift RTCPeerConnection that tells when candidate gathering is over. */
export interface GatheringPeer {
  readonly iceGatheringState: string;
  readonly iceGatheringStateChange: { subscribe(listener: (state: string) => void): { unSubscribe(): void } };
}

/**
 * Resolves once `pc` has gathered all its candidates (the answer then carries them all, so
 * WHIP/WHEP clients need not trickle); rejects after `timeoutMs`.
 */
export async function iceGatheringComplete(pc: GatheringPeer, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  let subscription: { unSubscribe(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      subscription = pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') resolve();
      });
      timer = setTimeout(() => reject(new Error(`ICE gathering took longer than ${timeoutMs} ms`)), timeoutMs);
      if (pc.iceGatheringState === 'complete') resolve();
    });
  } finally {
    subscription?.unSubscribe();
    clearTimeout(timer);
  }
}
