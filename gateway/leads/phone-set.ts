// The numbers already seen in a file, each with the row it was first on: an open-addressing hash
// table of E.164 digits (as doubles: 15 digits fit in 2^53) and row numbers in two typed arrays,
// 12 bytes a slot at most half full, ~24 MB for a million distinct numbers where a Map of them
// held ~80 MB and a Set of strings more.
export class PhoneRows {
  private keys: Float64Array;
  private rows: Int32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 1 << 16) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.keys = new Float64Array(size);
    this.rows = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The row `phone` (E.164) was first on, or 0 after recording `row` as its first. Rows are >= 1. */
  firstRow(phone: string, row: number): number {
    const key = Number(phone.slice(1));
    let i = slot(key) & this.mask;
    for (;;) {
      const r = this.rows[i]!;
      if (r === 0) break;
      if (this.keys[i] === key) return r;
      i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.rows[i] = row;
    if (++this.count * 2 > this.mask) this.grow();
    return 0;
  }

  private grow(): void {
    const { keys, rows } = this;
    const size = keys.length * 2;
    this.keys = new Float64Array(size);
    this.rows = new Int32Array(size);
    this.mask = size - 1;
    for (let j = 0; j < keys.length; j++) {
      const r = rows[j]!;
      if (r === 0) continue;
      let i = slot(keys[j]!) & this.mask;
      while (this.rows[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = keys[j]!;
      this.rows[i] = r;
    }
  }
}

/** A well-mixed 32-bit hash of a whole number below 2^53. */
function slot(key: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
