/**
 * Browsers start an AudioContext suspended until the viewer interacts with the page (autoplay
 * policy). @moq/watch resumes its context on the first pointerdown or keydown anywhere, but a
 * viewer does not know that sound is waiting: this shows a "Click for sound" button while any
 * AudioContext of the page is suspended, and resumes them on click.
 */
import { h } from './dom.ts';

export function soundButton(): HTMLButtonElement {
  const contexts = new Set<AudioContext>();
  const button = h('button', { class: 'button primary sound-button', type: 'button', 'data-testid': 'sound-button' }, '🔊 Click for sound');
  const update = (): void => {
    button.hidden = ![...contexts].some((context) => context.state === 'suspended');
  };
  update();
  // Watch every context the player makes (it constructs the global AudioContext when the
  // broadcast's audio track starts); a subclass keeps the constructor's behaviour unchanged.
  const Base = window.AudioContext;
  window.AudioContext = class extends Base {
    constructor(options?: AudioContextOptions) {
      super(options);
      contexts.add(this);
      this.addEventListener('statechange', () => {
        if (this.state === 'closed') contexts.delete(this);
        update();
      });
      queueMicrotask(update);
    }
  };
  button.addEventListener('click', () => {
    for (const context of contexts) void context.resume().then(update);
  });
  return button;
}
