import type { DuckDBDataChunk, DuckDBValue } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import type { BackendWriter, FieldDescription } from './backend-writer.js';
import type { PgCodec } from './pg-codecs.js';

/** A chunk read a column at a time: one array of values per column, no object per row. */
export function chunkColumns(chunk: DuckDBDataChunk): readonly (readonly DuckDBValue[])[] {
  const cols: DuckDBValue[][] = [];
  for (let c = 0; c < chunk.columnCount; c++) cols.push(chunk.getColumnValues(c));
  return cols;
}

/** Writes DataRow messages for rows [from, to) of the column arrays. */
export function writeDataRows(
  w: BackendWriter,
  cols: readonly (readonly DuckDBValue[])[],
  codecs: readonly PgCodec[],
  binary: readonly boolean[],
  from: number,
  to: number,
): void {
  const width = cols.length;
  for (let r = from; r < to; r++) {
    w.begin('D');
    w.int16(width);
    for (let c = 0; c < width; c++) {
      const v = cols[c][r];
      if (v === null || v === undefined) w.int32(-1);
      else if (binary[c]) codecs[c].binary!(w, v);
      else w.cell(codecs[c].text(v));
    }
    w.end();
  }
}

/**
 * Per-column binary flags from a Bind's result format codes: none means all text, one applies
 * to every column, otherwise one per column.
 */
export function resultFormats(codes: readonly number[], codecs: readonly PgCodec[], names: readonly string[]): boolean[] {
  if (codes.length > 1 && codes.length !== codecs.length) {
    throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `bind message has ${codes.length} result formats for ${codecs.length} columns`);
  }
  return codecs.map((codec, i) => {
    const code = codes.length === 0 ? 0 : codes.length === 1 ? codes[0] : codes[i];
    if (code === 0) return false;
    if (code !== 1) throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `unknown result format code ${code}`);
    if (!codec.binary) throw new SluiceError('SLUICE_PGWIRE_UNSUPPORTED', `binary format is not supported for column "${names[i]}" (type oid ${codec.oid}); ask for text`);
    return true;
  });
}

export function fieldDescriptions(names: readonly string[], codecs: readonly PgCodec[], binary: readonly boolean[]): FieldDescription[] {
  return codecs.map((c, i) => ({
    name: names[i], tableOid: 0, columnNumber: 0, typeOid: c.oid, typeSize: c.size, typeModifier: c.modifier, format: binary[i] ? 1 : 0,
  }));
}
