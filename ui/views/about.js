// The About view: version, where Keyward keeps its files, and the keyboard shortcuts.

import { $, show } from '../dom.js';
import { renderShortcuts } from '../shortcuts.js';

export function renderAbout(info) {
  $('#about-version').textContent = info?.version ? `Version ${info.version}` : 'Version unknown';
  // app_info's data_dir; failing that, a local profile's store lives in it.
  let dataDir = info?.data_dir ?? info?.paths?.data_dir ?? null;
  if (!dataDir && info?.profile?.backend === 'local' && info.profile.location) {
    dataDir = info.profile.location.replace(/[\\/][^\\/]*$/, '');
  }
  $('#about-data-dir').textContent = dataDir ?? 'Not reported by this build';
  const config = info?.config_path ?? info?.paths?.config ?? null;
  $('#about-config').textContent = config ?? '';
  show($('#about-config'), !!config);
  show($('#about-config-label'), !!config);
  renderShortcuts($('#about-shortcuts'));
}
