// A virtualized table body: a fixed row height, spacer rows above and below sized to the rows
// not drawn, and only the visible rows (plus overscan) in the DOM. Row elements are recycled as
// the user scrolls; rows stay in index order, and a row that stays in range is never moved (so
// it keeps focus).

/** The rows to draw for a scroll position: [start, end) with overscan, and the visible [first, last]. */
export function visibleRange({ scrollTop, viewportHeight, rowHeight, rowCount, overscan = 8 }) {
  if (rowCount <= 0 || viewportHeight <= 0) {
    const end = Math.min(rowCount, Math.max(0, overscan));
    return { start: 0, end, first: 0, last: end - 1 };
  }
  const first = Math.min(rowCount - 1, Math.max(0, Math.floor(scrollTop / rowHeight)));
  const last = Math.min(rowCount - 1, Math.max(first, Math.ceil((scrollTop + viewportHeight) / rowHeight) - 1));
  return {
    start: Math.max(0, first - overscan),
    end: Math.min(rowCount, last + 1 + overscan),
    first,
    last,
  };
}

/** Rows of overscan left when a lazy render redraws: enough for a frame or two of a fast fling. */
const LAZY_MARGIN = 4;

export class VirtualBody {
  /**
   * scroller: the element that scrolls (holds the table); tbody: the table's body; columns: how
   * many cells a row has; createRow() → a new <tr>; fillRow(tr, index) paints row `index` into it.
   */
  constructor({ scroller, tbody, rowHeight, columns, overscan = 8, createRow, fillRow }) {
    this.scroller = scroller;
    this.tbody = tbody;
    this.rowHeight = rowHeight;
    this.overscan = overscan;
    this.createRow = createRow;
    this.fillRow = fillRow;
    this.rowCount = 0;
    this.byIndex = new Map();
    this.pool = [];
    this.range = { start: 0, end: 0, first: 0, last: -1 };
    this.top = spacer('spacer-top', columns);
    this.bottom = spacer('spacer-bottom', columns);
    tbody.replaceChildren(this.top, this.bottom);
    this.headerHeight = 0;
  }

  /** The height of the sticky header inside the scroller (rows start below it). */
  measure() {
    this.headerHeight = this.tbody.parentElement.tHead?.offsetHeight ?? 0;
    this.viewport = this.scroller.clientHeight;
  }

  setRowCount(count) {
    this.rowCount = Math.max(0, count);
  }

  /**
   * Draws the rows in view. Returns the range drawn. With `lazy` (a scroll, nothing else
   * changed), the rows already drawn stay as they are while the view is inside them: changing the
   * body's shape (spacer heights, rows moved) is what makes a scroll frame slow, so it happens
   * once every `overscan - margin` rows instead of on every frame.
   */
  render({ lazy = false } = {}) {
    if (this.viewport == null) this.measure();
    const range = visibleRange({
      scrollTop: Math.max(0, this.scroller.scrollTop),
      viewportHeight: Math.max(0, this.viewport - this.headerHeight),
      rowHeight: this.rowHeight,
      rowCount: this.rowCount,
      overscan: this.overscan,
    });
    if (lazy && this.covers(range)) {
      this.range = { ...this.range, first: range.first, last: range.last };
      return this.range;
    }
    this.drawnCount = this.rowCount;
    this.range = range;
    // Rows leaving the range go back to the pool.
    for (const [index, row] of this.byIndex) {
      if (index < range.start || index >= range.end) {
        this.byIndex.delete(index);
        this.pool.push(row);
      }
    }
    const rows = [];
    for (let index = range.start; index < range.end; index += 1) {
      let row = this.byIndex.get(index);
      if (!row) {
        row = this.pool.pop() ?? this.createRow();
        this.byIndex.set(index, row);
      }
      // Attribute writes restyle a row even with the same value: only when it changes.
      if (row.dataset.index !== String(index)) row.dataset.index = String(index);
      this.fillRow(row, index);
      rows.push(row);
    }
    // Index order in the DOM, moving only rows that are out of place.
    let ref = this.top.nextSibling;
    for (const row of rows) {
      if (row === ref) ref = ref.nextSibling;
      else this.tbody.insertBefore(row, ref);
    }
    while (ref !== this.bottom) {
      const next = ref.nextSibling;
      ref.remove();
      ref = next;
    }
    setHeight(this.top, range.start * this.rowHeight);
    setHeight(this.bottom, (this.rowCount - range.end) * this.rowHeight);
    return range;
  }

  /** Whether the rows drawn still cover `range`'s visible rows with a margin to spare. */
  covers(range) {
    const drawn = this.range;
    if (this.drawnCount !== this.rowCount || drawn.end <= drawn.start) return false;
    const margin = Math.min(LAZY_MARGIN, this.overscan);
    const top = drawn.start > 0 ? margin : 0;
    const bottom = drawn.end < this.rowCount ? margin : 0;
    return range.first >= drawn.start + top && range.last <= drawn.end - 1 - bottom;
  }

  rowFor(index) {
    return this.byIndex.get(index) ?? null;
  }

  rows() {
    return [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => row);
  }

  /** Scrolls the least needed to show row `index` whole. */
  scrollToIndex(index) {
    if (this.viewport == null) this.measure();
    const top = index * this.rowHeight;
    const bottom = top + this.rowHeight;
    const view = this.viewport - this.headerHeight;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (bottom > this.scroller.scrollTop + view) this.scroller.scrollTop = bottom - view;
  }

  /** Rows visible (fully or partly) right now: [first, last], 0-based. */
  visible() {
    return { first: this.range.first, last: Math.min(this.range.last, this.rowCount - 1) };
  }
}

function spacer(className, columns) {
  const row = document.createElement('tr');
  row.className = `spacer ${className}`;
  row.setAttribute('aria-hidden', 'true');
  const cell = document.createElement('td');
  cell.colSpan = columns;
  row.append(cell);
  return row;
}

function setHeight(row, px) {
  row.hidden = px <= 0;
  row.style.height = `${px}px`;
}
