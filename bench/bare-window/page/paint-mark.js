// The benchmark's probe, the same as Keyward's (ui/keys-table.js): a mark in the frame after
// the content is in the DOM.
document.addEventListener('DOMContentLoaded', () => {
  requestAnimationFrame(() => performance.mark('keys-table-painted'));
});
