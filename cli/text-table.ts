/**
 * Plain-text tables for the terminal, the way psql prints them: a header, a rule, one line per
 * row, columns padded to their widest cell. No colours or box drawing, so the output reads the
 * same piped into a file, grep or a CI log.
 */

export type Align = 'left' | 'right';

export interface TextColumn {
  readonly name: string;
  readonly align?: Align;
}

/** Terminal columns a string takes: code points, not UTF-16 units (wide CJK glyphs aside). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Control characters (a newline inside a value) would break the grid: shown escaped. */
function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

/** The table as lines joined by \n, with a trailing \n; trailing spaces are trimmed. */
export function formatTable(columns: readonly TextColumn[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => columns.map((_, i) => oneLine(r[i] ?? '')));
  const heads = columns.map((c) => oneLine(c.name));
  const widths = heads.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i]))));
  // Headers take their column's alignment, so a number column's name sits over its digits.
  const line = (values: readonly string[]): string =>
    values.map((v, i) => pad(v, widths[i], columns[i].align ?? 'left')).join('  ').trimEnd();
  const out = [line(heads), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  return out.join('\n') + '\n';
}
