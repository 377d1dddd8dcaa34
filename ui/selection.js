// What is selected in the key table: a set of ids, or "every key matching this query".
// Pure logic (no DOM): the table paints from it, the revoke dialog sends `toRequest()`.

/** The inclusive index range between the anchor (last click) and the shift-clicked row. */
export function rangeBetween(anchor, target) {
  if (anchor == null || anchor < 0) return [target, target];
  return anchor <= target ? [anchor, target] : [target, anchor];
}

/** The ids of the loaded rows in [lo, hi]; rows not loaded yet are skipped. */
export function idsInRange(lo, hi, keyAt) {
  const ids = [];
  for (let index = lo; index <= hi; index += 1) {
    const key = keyAt(index);
    if (key) ids.push(key.id);
  }
  return ids;
}

export class Selection {
  constructor() {
    this.clear();
  }

  clear() {
    this.mode = 'ids';
    this.ids = new Set();
    this.query = null;
    this.total = 0;
    this.anchor = null;
  }

  /** Every key that matches `query` (`total` of them, null when the backend does not say). */
  selectMatching(query, total) {
    this.mode = 'query';
    this.ids = new Set();
    this.query = query;
    this.total = total;
  }

  get allMatching() {
    return this.mode === 'query';
  }

  /** How many keys are selected; null when "all matching" of an unknown total. */
  get size() {
    return this.allMatching ? this.total : this.ids.size;
  }

  get isEmpty() {
    return this.allMatching ? this.total === 0 : this.ids.size === 0;
  }

  has(id) {
    return this.allMatching || this.ids.has(id);
  }

  /**
   * Sets `ids` on or off. In "all matching" mode this first becomes an explicit selection of
   * `loadedIds` (what the user can see), as mail clients do when one row is unticked.
   */
  set(ids, on, loadedIds = []) {
    if (this.allMatching) {
      const loaded = new Set(loadedIds);
      this.clear();
      this.ids = loaded;
    }
    for (const id of ids) {
      if (on) this.ids.add(id);
      else this.ids.delete(id);
    }
  }

  /** A click: toggles one row and makes it the anchor of the next shift-click. */
  toggle(index, id, loadedIds) {
    const on = !this.has(id);
    this.set([id], on, loadedIds);
    this.anchor = index;
    return on;
  }

  /** A shift-click: sets every loaded row between the anchor and `index` to `on`. */
  extendTo(index, on, keyAt, loadedIds) {
    const [lo, hi] = rangeBetween(this.anchor, index);
    this.set(idsInRange(lo, hi, keyAt), on, loadedIds);
    this.anchor = index;
  }

  /** Drops ids that are gone (e.g. deleted by the backend). */
  forget(ids) {
    for (const id of ids) this.ids.delete(id);
  }

  /** The `selection` argument of revoke_preview / revoke_keys. */
  toRequest() {
    return this.allMatching ? { query: this.query } : { ids: [...this.ids] };
  }
}
