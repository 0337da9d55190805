import { SluiceError } from '../../core/errors.js';

/**
 * Turns a Postgres array literal (`{1,2,NULL}`, `{{"a b",c},{d,"e\"f"}}`) into JSON text that
 * DuckDB can cast to a LIST. Only array columns take this path; the snapshot gets the same JSON
 * from `array_to_json()` on the server, so log values are identical either way.
 */
export function pgArrayToJson(literal: string, bare: 'number' | 'boolean' | false): string {
  let i = 0;
  // Optional dimension decoration: '[1:3]={...}'
  if (literal[0] === '[') {
    const eq = literal.indexOf('=');
    if (eq < 0) throw bad(literal);
    i = eq + 1;
  }
  let out = '';
  const element = (raw: string, quoted: boolean): string => {
    if (!quoted && raw === 'NULL') return 'null';
    if (bare === 'number' && !quoted) return raw;
    if (bare === 'boolean' && !quoted) return raw === 't' ? 'true' : 'false';
    return JSON.stringify(raw);
  };
  let depth = 0;
  let expectValue = true;
  while (i < literal.length) {
    const ch = literal[i];
    if (ch === '{') {
      out += '[';
      depth++;
      i++;
      expectValue = true;
    } else if (ch === '}') {
      out += ']';
      depth--;
      i++;
      expectValue = false;
      if (depth === 0) break;
    } else if (ch === ',') {
      out += ',';
      i++;
      expectValue = true;
    } else if (ch === '"') {
      let j = i + 1;
      let raw = '';
      while (j < literal.length && literal[j] !== '"') {
        if (literal[j] === '\\') j++;
        raw += literal[j++];
      }
      out += element(raw, true);
      i = j + 1;
      expectValue = false;
    } else if (ch === ' ') {
      i++;
    } else {
      if (!expectValue) throw bad(literal);
      let j = i;
      while (j < literal.length && literal[j] !== ',' && literal[j] !== '}') j++;
      out += element(literal.slice(i, j).trim(), false);
      i = j;
      expectValue = false;
    }
  }
  if (depth !== 0) throw bad(literal);
  return out;
}

function bad(literal: string): SluiceError {
  return new SluiceError('SLUICE_PG_PROTOCOL', `malformed array literal: ${literal.slice(0, 80)}`);
}
