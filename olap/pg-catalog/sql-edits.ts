import { SluiceError } from '../../core/errors.js';
import type { Token } from './sql-tokenizer.js';

/** Renders a run of significant tokens [from, to] with the edits inside it applied. */
export type RangeRenderer = (from: number, to: number) => string;

interface Replace {
  readonly from: number;
  readonly to: number;
  /** Fixed text, or text built at render time from parts of the replaced run (to move them). */
  readonly text: string | ((render: RangeRenderer) => string);
}

interface Wrap {
  readonly from: number;
  readonly to: number;
  readonly prefix: string;
  readonly suffix: string;
  /** Of two wraps over the same tokens, the one with the lower level is outside. */
  readonly level: number;
}

/**
 * Rewrites collected over a statement's significant tokens (indexes into them, ranges
 * inclusive), applied in one go: replacements swap tokens for text, wraps put text around a
 * run of tokens. Wraps nest, so independent rewrites of an expression and of its parts
 * compose; everything not edited, whitespace and comments included, is written back as it was.
 */
export class SqlEdits {
  private readonly replaces: Replace[] = [];
  private readonly wraps: Wrap[] = [];
  private indexed: ReturnType<SqlEdits['index']> | undefined;

  get empty(): boolean {
    return this.replaces.length === 0 && this.wraps.length === 0;
  }

  replace(from: number, to: number, text: string): void {
    this.add({ from, to, text });
  }

  /**
   * Replaces tokens [from, to] with text built when rendering, from parts of them rendered with
   * their own edits (`x = ANY(a)` → `list_contains(a, x)` moves both operands).
   */
  rearrange(from: number, to: number, build: (render: RangeRenderer) => string): void {
    this.add({ from, to, text: build });
  }

  private add(r: Replace): void {
    for (const o of this.replaces) {
      if (o.from > r.to || r.from > o.to) continue;
      const nested = (outer: Replace, inner: Replace): boolean =>
        typeof outer.text === 'function' && outer.from <= inner.from && inner.to <= outer.to && (outer.from !== inner.from || outer.to !== inner.to);
      if (!nested(o, r) && !nested(r, o)) {
        throw new SluiceError('SLUICE_INTERNAL', `SQL translation: overlapping rewrites at tokens ${r.from}-${r.to}`);
      }
    }
    this.replaces.push(r);
  }

  wrap(from: number, to: number, prefix: string, suffix: string, level = 1): void {
    this.wraps.push({ from, to, prefix, suffix, level });
  }

  insertBefore(i: number, text: string): void {
    this.wrap(i, i, text, '', 3);
  }

  insertAfter(i: number, text: string): void {
    this.wrap(i, i, '', text, 3);
  }

  /** The statement with every edit applied; `sig[k]` is the index in `all` of significant token k. */
  render(all: readonly Token[], sig: readonly number[]): string {
    for (const w of this.wraps) {
      // A wrap may start or end with a fixed replacement, never inside one.
      const fixed = this.replaces.filter((r) => typeof r.text === 'string');
      if (fixed.some((r) => (r.from < w.from && w.from <= r.to) || (r.from <= w.to && w.to < r.to))) {
        throw new SluiceError('SLUICE_INTERNAL', `SQL translation: a rewrite ends inside another at tokens ${w.from}-${w.to}`);
      }
    }
    const text = (from: number, to: number): string => all.slice(from, to).map((t) => t.text).join('');
    if (sig.length === 0) return text(0, all.length);
    return text(0, sig[0]) + this.range(all, sig, 0, sig.length - 1) + text(sig[sig.length - 1] + 1, all.length);
  }

  private range(all: readonly Token[], sig: readonly number[], from: number, to: number): string {
    const index = this.index();
    const inside = (w: Wrap): boolean => w.from >= from && w.to <= to;
    let out = '';
    let k = from;
    while (k <= to) {
      // Outer wraps open first: the longer one, then the lower level.
      const opening = (index.starting.get(k) ?? []).filter(inside).sort((a, b) => b.to - a.to || a.level - b.level);
      for (const w of opening) out += w.prefix;
      const r = (index.replacing.get(k) ?? []).filter((x) => x.to <= to).sort((a, b) => b.to - a.to)[0];
      const last = r ? r.to : k;
      if (!r) out += all[sig[k]].text;
      else out += typeof r.text === 'string' ? r.text : r.text((a, b) => this.range(all, sig, a, b));
      // Inner wraps close first: the one that started later, then the higher level.
      const closing = (index.ending.get(last) ?? []).filter(inside).sort((a, b) => b.from - a.from || b.level - a.level);
      for (const w of closing) out += w.suffix;
      if (last < to) out += all.slice(sig[last] + 1, sig[last + 1]).map((t) => t.text).join('');
      k = last + 1;
    }
    return out;
  }

  /** Edits by the token they start or end at, so rendering stays linear in the statement's length. */
  private index(): { starting: Map<number, Wrap[]>; ending: Map<number, Wrap[]>; replacing: Map<number, Replace[]> } {
    const group = <T>(items: readonly T[], key: (x: T) => number): Map<number, T[]> => {
      const m = new Map<number, T[]>();
      for (const x of items) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
      return m;
    };
    this.indexed ??= {
      starting: group(this.wraps, (w) => w.from),
      ending: group(this.wraps, (w) => w.to),
      replacing: group(this.replaces, (r) => r.from),
    };
    return this.indexed;
  }
}
