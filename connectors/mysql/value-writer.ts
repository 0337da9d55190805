import type { CsvBatchWriter } from '../../core/csv-batch-writer.js';
import type { MysqlTable } from './table-catalog.js';

const ZERO_DATE = /^0000-00-00|^\d{4}-00-|^\d{4}-\d{2}-00/;

function hex(b: Buffer): string {
  return `\\x${b.toString('hex')}`;
}

function uuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function bitsValue(v: unknown): bigint {
  if (Buffer.isBuffer(v)) return v.reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  return BigInt(v as number);
}

/**
 * TIME as a duration the store parses. zongji (0.9) decodes negative TIME values without a
 * fraction by flipping the bits of the packed hour/minute/second fields and adding one to the
 * seconds, which leaves '-26:41:64' for -26:42:00; re-packing and unpacking the fields carries
 * that one where it belongs.
 */
function normaliseTime(s: string): string {
  const m = /^(-)?(\d+):(\d+):(\d+)(\.\d+)?$/.exec(s);
  if (!m || Number(m[4]) < 60) return s;
  const packed = Number(m[2]) * 4096 + Number(m[3]) * 64 + Number(m[4]);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${m[1] ?? ''}${pad(Math.floor(packed / 4096))}:${pad((packed >> 6) & 63)}:${pad(packed & 63)}${m[5] ?? ''}`;
}

/**
 * Writes one value of column `i` as the text the store parses. Values come from the snapshot
 * query (raw text, Buffers for binary columns) or from zongji's binlog decoding (numbers,
 * strings, Buffers); both are normalised here so a row reads the same either way.
 */
export function writeMysqlValue(w: CsvBatchWriter, t: MysqlTable, i: number, v: unknown): void {
  if (v === null || v === undefined) return w.nullField();
  switch (t.kinds[i]) {
    case 'bool':
      return w.textField(Number(v) !== 0 ? 'true' : 'false');
    case 'bits': {
      const n = bitsValue(v);
      return w.textField(t.columns[i].storeType === 'BOOLEAN' ? String(n !== 0n) : n.toString());
    }
    case 'binary':
      return w.textField(hex(Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'binary')));
    case 'date':
    case 'datetime':
      return ZERO_DATE.test(String(v)) ? w.nullField() : w.textField(String(v));
    case 'timestamp':
      // Rendered in UTC by the session/decoder; the zero timestamp has no instant.
      return ZERO_DATE.test(String(v)) ? w.nullField() : w.textField(`${String(v)}+00`);
    case 'time':
      return w.textField(normaliseTime(String(v)));
    case 'set':
      return w.textField(Array.isArray(v) ? v.join(',') : String(v));
    default:
      if (Buffer.isBuffer(v)) return w.textField(t.columns[i].storeType === 'UUID' && v.length === 16 ? uuid(v) : v.toString('utf8'));
      if (typeof v === 'object') return w.textField(JSON.stringify(v));
      return w.textField(String(v));
  }
}
