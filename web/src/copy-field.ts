import { h } from './dom.ts';

/** A labelled read-only value with a Copy button (for OBS settings, URLs, commands). */
export function copyField(label: string, value: string, opts: { testId?: string } = {}): HTMLElement {
  const input = h('input', { class: 'copy-value', type: 'text', readonly: true, spellcheck: 'false', 'aria-label': label });
  input.value = value;
  if (opts.testId) input.dataset.testid = opts.testId;
  input.addEventListener('focus', () => input.select());
  const button = h('button', { class: 'copy-button', type: 'button' }, 'Copy');
  button.addEventListener('click', () => {
    void copyText(input).then((ok) => flash(button, ok ? 'Copied' : 'Press Ctrl+C'));
  });
  return h('label', { class: 'copy-field' }, h('span', { class: 'copy-label' }, label), h('span', { class: 'copy-row' }, input, button));
}

/**
 * The Clipboard API only exists on secure origins; a gateway reached as http://192.168.x.y is
 * not one, so fall back to selecting the text and the legacy copy command.
 */
async function copyText(input: HTMLInputElement): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(input.value);
      return true;
    }
  } catch {
    // fall through to the legacy path
  }
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

function flash(button: HTMLButtonElement, text: string): void {
  button.textContent = text;
  button.classList.add('copied');
  setTimeout(() => {
    button.textContent = 'Copy';
    button.classList.remove('copied');
  }, 1500);
}
