// The expiry control of the key dialogs: the backend's presets (Never only where keys can never
// expire), and "Custom…" with a text field (90d, 12h, 2w, 2027-01-31) where it takes any date.
// The create dialog and the edit dialog both use it.

import { el, show, PRESET_LABELS } from './dom.js';

const CUSTOM_EXPIRY = 'custom';

export class ExpiryControl {
  /** `select`: the preset list; `customInput`: the text field shown for "Custom…". */
  constructor(select, customInput) {
    this.select = select;
    this.customInput = customInput;
    this.select.addEventListener('change', () => this.sync(true));
  }

  /**
   * Offers `capabilities`' presets, after `leading` options ([value, label] pairs, e.g. the edit
   * dialog's "Unchanged"). Returns the presets offered.
   */
  configure(capabilities, leading = []) {
    const presets = capabilities.expiry_presets.filter((p) => p !== 'Never' || capabilities.never_expires);
    const options = leading.map(([value, text]) => el('option', { value, text }));
    for (const preset of presets) options.push(el('option', { value: preset, text: PRESET_LABELS[preset] ?? preset }));
    if (capabilities.custom_expiry) options.push(el('option', { value: CUSTOM_EXPIRY, text: 'Custom…' }));
    this.select.replaceChildren(...options);
    return presets;
  }

  /** Chooses `value` (a preset or a leading option), clears the custom text. */
  reset(value) {
    if (value != null) this.select.value = value;
    this.customInput.value = '';
    this.sync(false);
  }

  get custom() {
    return this.select.value === CUSTOM_EXPIRY;
  }

  /** What was chosen: a preset name, a leading option's value, or the custom text. */
  get value() {
    return this.custom ? this.customInput.value : this.select.value;
  }

  /** The element an `expires` error belongs to. */
  get input() {
    return this.custom ? this.customInput : this.select;
  }

  sync(focus) {
    show(this.customInput, this.custom);
    if (this.custom && focus) this.customInput.focus();
  }
}
