/**
 * WHEP playback (draft-ietf-wish-whep): players `POST /whep/<broadcast>` an SDP offer and get
 * the relay broadcast's H.264 and Opus over WebRTC, packetized without re-encoding.
 */
export { createWhepService, type WhepService, type WhepServiceOptions } from './whep-service.ts';
export { planWhepOffer, type WhepOfferPlan } from './whep-offer.ts';
