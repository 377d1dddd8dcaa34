// A virtualized table body whose shape never changes while scrolling: a fixed pool of rows (the
// rows in view plus overscan) stays in the DOM in the same order, and each row is moved to its
// place with `transform` and refilled in place. Row `index` always lives in pool slot
// `index % poolSize`, so a row whose index stays in range is never touched (it keeps focus), and
// a scroll of n rows refills exactly n rows: no spacer heights, no rows inserted or removed, no
// burst of work at a boundary. The scroll height comes from one extent element beside the table,
// sized only when the row count changes.

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

/**
 * How many rows the pool holds for a viewport: every row that can be partly visible at once
 * (one more than fit, for a row cut at each edge) plus overscan on both sides.
 */
export function poolSize({ viewportHeight, rowHeight, overscan }) {
  const visible = Math.max(1, Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1);
  return visible + 2 * overscan;
}

/**
 * The range the pool shows: `range` widened (or shifted, at the table's ends) to exactly
 * `size` rows where the table has that many, so every slot has one index. [start, end).
 */
export function poolRange(range, size, rowCount) {
  const count = Math.min(size, Math.max(0, rowCount));
  let start = Math.max(0, Math.min(range.start, rowCount - count));
  return { start, end: start + count };
}

/** The pool slot of row `index`: stable while the index stays in range. */
export const slotOf = (index, size) => index % size;

export class VirtualBody {
  /**
   * scroller: the element that scrolls (holds the table); tbody: the table's body; createRow() →
   * a new <tr>; fillRow(tr, index) paints row `index` into it (and skips work when unchanged);
   * clearRow(tr) forgets what a row showed when it is hidden (no row for its slot).
   */
  constructor({ scroller, tbody, rowHeight, overscan = 8, createRow, fillRow, clearRow = () => {} }) {
    this.scroller = scroller;
    this.tbody = tbody;
    this.rowHeight = rowHeight;
    this.overscan = overscan;
    this.createRow = createRow;
    this.fillRow = fillRow;
    this.clearRow = clearRow;
    this.rowCount = 0;
    this.slots = []; // pool rows, in DOM order; slots[i] shows the index ≡ i (mod size)
    this.indexOfSlot = [];
    this.range = { start: 0, end: 0, first: 0, last: -1 };
    this.extent = document.createElement('div');
    this.extent.className = 'scroll-extent';
    this.extent.setAttribute('aria-hidden', 'true');
    scroller.append(this.extent);
    tbody.replaceChildren();
    tbody.parentElement.tHead?.rows[0]?.setAttribute('aria-rowindex', '1');
    this.headerHeight = 0;
    this.extentHeight = -1;
  }

  /** The height of the sticky header inside the scroller (rows start below it), and the pool's size. */
  measure() {
    this.headerHeight = this.tbody.parentElement.tHead?.offsetHeight ?? 0;
    this.viewport = this.scroller.clientHeight;
    const size = poolSize({ viewportHeight: this.viewport - this.headerHeight, rowHeight: this.rowHeight, overscan: this.overscan });
    if (size !== this.slots.length) this.resizePool(size);
  }

  resizePool(size) {
    while (this.slots.length < size) {
      const row = this.createRow();
      row.hidden = true;
      this.slots.push(row);
      this.indexOfSlot.push(-1);
      this.tbody.append(row);
    }
    while (this.slots.length > size) {
      this.slots.pop().remove();
      this.indexOfSlot.pop();
    }
    // Every slot's index changes with the pool's size: all are hidden until drawn again.
    for (let slot = 0; slot < size; slot += 1) {
      this.indexOfSlot[slot] = -1;
      const row = this.slots[slot];
      if (row.contains(document.activeElement)) this.scroller.focus({ preventScroll: true });
      delete row.dataset.index;
      row.hidden = true;
      this.clearRow(row);
    }
    this.range = { start: 0, end: 0, first: 0, last: -1 };
  }

  setRowCount(count) {
    this.rowCount = Math.max(0, count);
  }

  /**
   * Draws the rows in view and returns the range drawn. With `lazy` (a scroll, nothing else
   * changed) only rows whose index changed are filled; otherwise every row is offered to
   * fillRow (which skips rows whose content is unchanged).
   */
  render({ lazy = false } = {}) {
    if (this.viewport == null) this.measure();
    const size = this.slots.length;
    const view = visibleRange({
      scrollTop: Math.max(0, this.scroller.scrollTop),
      viewportHeight: Math.max(0, this.viewport - this.headerHeight),
      rowHeight: this.rowHeight,
      rowCount: this.rowCount,
      overscan: this.overscan,
    });
    const { start, end } = poolRange(view, size, this.rowCount);
    this.range = { start, end, first: view.first, last: view.last };
    const height = this.headerHeight + this.rowCount * this.rowHeight;
    if (height !== this.extentHeight) {
      this.extentHeight = height;
      this.extent.style.height = `${height}px`;
      // Rows are in the DOM only while in view: the table says how many there are (header included).
      this.tbody.parentElement.setAttribute('aria-rowcount', String(this.rowCount + 1));
    }
    for (let index = start; index < end; index += 1) {
      const slot = slotOf(index, size);
      const row = this.slots[slot];
      const moved = this.indexOfSlot[slot] !== index;
      if (moved) {
        // The focused row is about to show another key: focus goes to the table, not to it.
        if (row.contains(document.activeElement)) this.scroller.focus({ preventScroll: true });
        this.indexOfSlot[slot] = index;
        row.dataset.index = String(index);
        row.setAttribute('aria-rowindex', String(index + 2)); // the header is row 1
        // Slot `slot` sits at slot × height in the flow; the transform takes it to its index.
        row.style.transform = `translateY(${(index - slot) * this.rowHeight}px)`;
        if (row.hidden) row.hidden = false;
      }
      if (moved || !lazy) this.fillRow(row, index);
    }
    // Slots with no row to show (a table shorter than the pool).
    for (let slot = 0; slot < size; slot += 1) {
      const index = this.indexOfSlot[slot];
      if (index >= start && index < end && slotOf(index, size) === slot) continue;
      if (index !== -1 || !this.slots[slot].hidden) {
        const row = this.slots[slot];
        if (row.contains(document.activeElement)) this.scroller.focus({ preventScroll: true });
        this.indexOfSlot[slot] = -1;
        delete row.dataset.index;
        row.removeAttribute('aria-rowindex');
        row.hidden = true;
        this.clearRow(row);
      }
    }
    return this.range;
  }

  rowFor(index) {
    if (index < this.range.start || index >= this.range.end || this.slots.length === 0) return null;
    const slot = slotOf(index, this.slots.length);
    return this.indexOfSlot[slot] === index ? this.slots[slot] : null;
  }

  /** The rows drawn, in index order. */
  rows() {
    const rows = [];
    for (let index = this.range.start; index < this.range.end; index += 1) {
      const row = this.rowFor(index);
      if (row) rows.push(row);
    }
    return rows;
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
