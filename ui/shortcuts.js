// The window's keyboard shortcuts: one table (shown in the "?" dialog and the About view) and
// one keydown handler. Single-key shortcuts are ignored while the user types in a field.

import { el, isTyping } from './dom.js';

export const SHORTCUTS = [
  { keys: ['N'], what: 'New key' },
  { keys: ['/'], what: 'Search keys' },
  { keys: ['↑', '↓'], what: 'Move between rows (Home, End, Page Up, Page Down too)' },
  { keys: ['Space'], what: 'Select or unselect the focused row (Shift: the range from the last one)' },
  { keys: ['Enter'], what: 'Show the focused key’s details' },
  { keys: ['Delete'], what: 'Revoke the selected keys (or the focused one)' },
  { keys: ['Ctrl', 'C'], what: 'Copy the focused key’s id' },
  { keys: ['Esc'], what: 'Close a dialog; clear the selection' },
  { keys: ['P'], what: 'Switch profile' },
  { keys: ['?'], what: 'Show these shortcuts' },
];

/** Fills a <dl> with the shortcut list. */
export function renderShortcuts(list) {
  list.replaceChildren(...SHORTCUTS.flatMap(({ keys, what }) => [
    el('dt', {}, ...keys.flatMap((key, i) => [i ? ' ' : null, el('kbd', { text: key })].filter(Boolean))),
    el('dd', { text: what }),
  ]));
}

/**
 * Listens for the shortcuts. `handlers`: {newKey, search, revoke, escape, copyId, help, profile};
 * `blocked()` is true while a dialog or menu is open (only Escape and `?` are left to them).
 */
export function installShortcuts(handlers, blocked) {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.altKey) return;
    const typing = isTyping(event.target);
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'c') {
      // Ctrl+C with nothing selected on the page copies the focused row's key id.
      if (typing || blocked() || String(window.getSelection?.() ?? '') !== '') return;
      if (handlers.copyId()) event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || typing) return;
    if (event.key === 'Escape') {
      if (!blocked() && handlers.escape()) event.preventDefault();
      return;
    }
    if (blocked()) return;
    const actions = {
      n: handlers.newKey,
      N: handlers.newKey,
      '/': handlers.search,
      Delete: handlers.revoke,
      '?': handlers.help,
      p: handlers.profile,
    };
    const action = actions[event.key];
    if (action && action() !== false) event.preventDefault();
  });
}
