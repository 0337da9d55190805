import { type DuckDBValue, DuckDBBlobValue } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import { TypeOid } from '../../olap/pg-catalog/index.js';

const PG_EPOCH_MICROS = 946_684_800_000_000n;
const PG_EPOCH_MS = 946_684_800_000;

/**
 * A Bind parameter as a value DuckDB can bind. Text values stay text except where the declared
 * type says number or boolean, so that `SELECT $1` typed int4 by the client answers an integer;
 * DuckDB casts text to whatever type the statement needs. Binary values are decoded per the
 * type the client declared (a client may only send binary for a type it declared).
 */
export function decodeParam(bytes: Buffer | null, format: number, oid: number, index: number): DuckDBValue | null {
  if (bytes === null) return null;
  if (format === 0) return fromText(bytes.toString('utf8'), oid, index);
  if (format !== 1) throw paramError(index, `unknown format code ${format}`);
  const need = (n: number): void => {
    if (bytes.length !== n) throw paramError(index, `binary value of type ${oid} must be ${n} bytes, got ${bytes.length}`);
  };
  switch (oid) {
    case TypeOid.bool: need(1); return bytes[0] !== 0;
    case TypeOid.int2: need(2); return bytes.readInt16BE(0);
    case TypeOid.int4: need(4); return bytes.readInt32BE(0);
    case TypeOid.oid: need(4); return bytes.readUInt32BE(0);
    case TypeOid.int8: need(8); return bytes.readBigInt64BE(0);
    case TypeOid.float4: need(4); return bytes.readFloatBE(0);
    case TypeOid.float8: need(8); return bytes.readDoubleBE(0);
    case TypeOid.text: case TypeOid.varchar: case TypeOid.json: case TypeOid.unknown: case 1042 /* bpchar */: case TypeOid.name:
      return bytes.toString('utf8');
    case TypeOid.bytea: return new DuckDBBlobValue(new Uint8Array(bytes));
    case TypeOid.uuid: need(16); {
      const h = bytes.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case TypeOid.date: need(4);
      return new Date((bytes.readInt32BE(0) * 86_400_000) + PG_EPOCH_MS).toISOString().slice(0, 10);
    case TypeOid.timestamp: case TypeOid.timestamptz: need(8); {
      const us = bytes.readBigInt64BE(0) + PG_EPOCH_MICROS;
      const ms = us / 1000n;
      const frac = (us % 1_000_000n + 1_000_000n) % 1_000_000n;
      const iso = new Date(Number(ms)).toISOString().slice(0, 19).replace('T', ' ');
      return `${iso}.${frac.toString().padStart(6, '0')}${oid === TypeOid.timestamptz ? '+00' : ''}`;
    }
    case 0:
      throw paramError(index, 'a binary parameter needs a declared type (Parse gave none)');
    default:
      throw new SluiceError('SLUICE_PGWIRE_UNSUPPORTED', `parameter $${index + 1}: binary format for type oid ${oid} is not supported; send it as text`);
  }
}

function fromText(text: string, oid: number, index: number): DuckDBValue {
  switch (oid) {
    case TypeOid.int2: case TypeOid.int4: case TypeOid.float4: case TypeOid.float8: case TypeOid.oid: {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n) && text.trim() !== 'NaN') throw paramError(index, `"${text}" is not a number`);
      return n;
    }
    case TypeOid.int8:
      try {
        return BigInt(text.trim());
      } catch {
        throw paramError(index, `"${text}" is not an integer`);
      }
    case TypeOid.bool: {
      const t = text.trim().toLowerCase();
      if (['t', 'true', 'yes', 'on', '1', 'y'].includes(t)) return true;
      if (['f', 'false', 'no', 'off', '0', 'n'].includes(t)) return false;
      throw paramError(index, `"${text}" is not a boolean`);
    }
    default:
      return text;
  }
}

function paramError(index: number, message: string): SluiceError {
  return new SluiceError('SLUICE_PGWIRE_PARAMETER', `parameter $${index + 1}: ${message}`);
}
