// Pages of a listing, fetched on demand as the table scrolls: cached by page index, far pages
// dropped, at most a few requests in flight, and answers to an older query ignored.
// Pure logic: `fetchPage(page)` is injected, so this runs under node as well.

export class PageCache {
  /**
   * fetchPage(pageIndex) → Promise<{items, total, has_more}>; onChange() after a page lands;
   * onError(error) when one fails.
   */
  constructor({ fetchPage, pageSize = 200, maxPages = 25, maxInFlight = 2, onChange = () => {}, onError = () => {} }) {
    this.fetchPage = fetchPage;
    this.pageSize = pageSize;
    this.maxPages = maxPages;
    this.maxInFlight = maxInFlight;
    this.onChange = onChange;
    this.onError = onError;
    this.generation = 0;
    this.reset();
  }

  /** A new query: nothing cached is valid any more. */
  reset() {
    this.generation += 1;
    this.pages = new Map();
    this.stale = new Map();
    this.inFlight = new Map();
    this.failed = new Set();
    this.wanted = [];
    this.total = null;
    this.exactEnd = null;
    this.loadedAny = false;
    this.lastError = null;
    this.replacing = false;
  }

  /**
   * The same query again (after a change): pages are fetched anew, and the old ones are shown
   * until their fresh copies land, so the table does not flash.
   */
  refresh() {
    const previous = new Map([...this.stale, ...this.pages]);
    const { total, exactEnd } = this;
    this.reset();
    this.stale = previous;
    this.total = total;
    this.exactEnd = exactEnd;
  }

  /**
   * Another query (a search keystroke, a filter): the rows shown stay, as stale rows, until the
   * new query's first answer replaces them all at once, so the table does not empty and refill
   * between keystrokes. `ready` is false until that answer.
   */
  requery() {
    this.refresh();
    this.replacing = true;
  }

  /** The item at `index`, from a fresh page or, while it reloads, a stale one. */
  get(index) {
    const page = Math.floor(index / this.pageSize);
    const items = (this.pages.get(page) ?? this.stale.get(page))?.items;
    return items?.[index - page * this.pageSize];
  }

  /** Whether the first answer for the current query (or refresh) has arrived. */
  get ready() {
    return this.loadedAny;
  }

  /**
   * How many rows the table should have: the total when the backend reports it; otherwise what
   * is known so far, plus a page more while the backend says there is more.
   */
  get rowCount() {
    if (this.total != null) return this.total;
    if (this.exactEnd != null) return this.exactEnd;
    const { end, more } = this.knownEnd();
    return end + (more ? this.pageSize : 0);
  }

  /** The end of the loaded rows (empty pages past the end aside), and whether more follow. */
  knownEnd() {
    let end = 0;
    let more = false;
    for (const [page, data] of [...this.stale, ...this.pages]) {
      if (data.items.length === 0 && page > 0) continue;
      const pageEnd = page * this.pageSize + data.items.length;
      if (pageEnd > end) {
        end = pageEnd;
        more = data.has_more;
      } else if (pageEnd === end) {
        more = more || data.has_more;
      }
    }
    return { end, more };
  }

  /** Whether rowCount is exact. */
  get exact() {
    return this.total != null || this.exactEnd != null;
  }

  /** Every loaded item's id, in index order. */
  loadedIds() {
    const pages = [...this.pages.keys()].sort((a, b) => a - b);
    return pages.flatMap((p) => this.pages.get(p).items.map((k) => k.id));
  }

  /** Finds a loaded item's index by id, or -1. */
  /** The names of the loaded keys among `ids`, as {id: name} (keys not loaded are left out). */
  namesOf(ids) {
    const wanted = new Set(ids);
    const names = {};
    for (const data of this.pages.values()) {
      for (const key of data.items) if (wanted.has(key.id)) names[key.id] = key.name;
    }
    return names;
  }

  indexOf(id) {
    for (const [page, data] of this.pages) {
      const at = data.items.findIndex((k) => k.id === id);
      if (at >= 0) return page * this.pageSize + at;
    }
    return -1;
  }

  /** Asks for the rows [start, end): their pages are fetched (nearest first), others dropped from the queue. */
  want(start, end) {
    const first = Math.max(0, Math.floor(start / this.pageSize));
    const last = Math.max(first, Math.floor(Math.max(start, end - 1) / this.pageSize));
    this.center = (first + last) / 2;
    const wanted = [];
    for (let page = first; page <= last; page += 1) {
      if (!this.pages.has(page) && !this.inFlight.has(page) && !this.failed.has(page)) wanted.push(page);
    }
    this.wanted = wanted;
    this.pump();
  }

  pump() {
    while (this.inFlight.size < this.maxInFlight && this.wanted.length) {
      const page = this.wanted.shift();
      if (this.pages.has(page) || this.inFlight.has(page)) continue;
      this.load(page);
    }
  }

  load(page) {
    const generation = this.generation;
    const request = Promise.resolve().then(() => this.fetchPage(page));
    this.inFlight.set(page, request);
    request.then(
      (data) => {
        if (generation !== this.generation) return; // an answer to an older query
        this.inFlight.delete(page);
        this.accept(page, data);
        this.pump();
        this.onChange();
      },
      (error) => {
        if (generation !== this.generation) return;
        this.inFlight.delete(page);
        this.failed.add(page);
        this.lastError = error;
        if (this.replacing) {
          this.replacing = false;
          this.stale.clear();
          this.total = null;
          this.exactEnd = null;
        }
        this.pump();
        this.onError(error);
      },
    );
  }

  accept(page, data) {
    if (this.replacing) {
      // The new query's first answer: nothing of the old one is true any more.
      this.replacing = false;
      this.stale.clear();
      this.total = null;
      this.exactEnd = null;
    }
    this.loadedAny = true;
    this.lastError = null;
    this.pages.set(page, data);
    this.stale.delete(page);
    if (data.total != null) {
      this.total = data.total;
    } else {
      this.total = null;
      const pageEnd = page * this.pageSize + data.items.length;
      if (!data.has_more) {
        this.exactEnd = data.items.length > 0 || page === 0 ? pageEnd : Math.min(this.knownEnd().end, pageEnd);
      } else if (this.exactEnd != null && pageEnd >= this.exactEnd) {
        this.exactEnd = null; // the list grew
      }
    }
    // Past the end (e.g. the list shrank): stale pages there are no longer true.
    const end = this.rowCount;
    for (const p of [...this.stale.keys()]) if (p * this.pageSize >= end) this.stale.delete(p);
    if (this.inFlight.size === 0 && this.wanted.length === 0) this.stale.clear();
    this.evict();
  }

  /** Keeps at most maxPages, dropping the pages farthest from what the table shows. */
  evict() {
    if (this.pages.size <= this.maxPages) return;
    const center = this.center ?? 0;
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    for (const page of byDistance.slice(0, this.pages.size - this.maxPages)) this.pages.delete(page);
  }
}
