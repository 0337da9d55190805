import { stripLeadingComments } from '../../core/sql.js';

/** A statement the Postgres door answers itself instead of sending it to DuckDB. */
export type SessionCommand =
  | { readonly kind: 'set'; readonly name: string; readonly value: string | null; readonly tag: 'SET' }
  | { readonly kind: 'reset'; readonly name: string | null; readonly tag: 'RESET' }
  | { readonly kind: 'show'; readonly name: string | null }
  | { readonly kind: 'begin'; readonly tag: 'BEGIN' }
  | { readonly kind: 'commit'; readonly tag: 'COMMIT' | 'ROLLBACK' }
  | { readonly kind: 'rollback'; readonly tag: 'ROLLBACK' }
  | { readonly kind: 'discard'; readonly tag: 'DISCARD ALL' }
  | { readonly kind: 'deallocate'; readonly name: string | null; readonly tag: 'DEALLOCATE' | 'DEALLOCATE ALL' }
  | { readonly kind: 'noop'; readonly tag: string };

const WORD = String.raw`[A-Za-z_][\w$]*|"(?:[^"]|"")+"`;
const SET = new RegExp(String.raw`^SET\s+(?:(?:SESSION|LOCAL)\s+)?(${WORD}(?:\.${WORD})?)\s*(?:=|\s+TO\s+|\s+TO$)\s*([\s\S]*)$`, 'i');

/**
 * Recognises the session statements clients send on connect and around queries (SET, SHOW,
 * RESET, transaction control, DISCARD, DEALLOCATE). `statement` is one statement without its
 * terminating semicolon; anything not recognised here is a query for the engine.
 */
export function parseSessionCommand(statement: string): SessionCommand | null {
  const s = stripLeadingComments(statement).trim();
  const head = /^[A-Za-z]+/.exec(s)?.[0].toUpperCase();
  switch (head) {
    case 'SET': return parseSet(s);
    case 'RESET': {
      const m = new RegExp(String.raw`^RESET\s+(ALL|${WORD}(?:\.${WORD})?)$`, 'i').exec(s);
      if (!m) return null;
      return { kind: 'reset', name: m[1].toUpperCase() === 'ALL' ? null : unquote(m[1]), tag: 'RESET' };
    }
    case 'SHOW': {
      const rest = s.slice(4).trim();
      if (/^ALL$/i.test(rest)) return { kind: 'show', name: null };
      if (/^TIME\s+ZONE$/i.test(rest)) return { kind: 'show', name: 'TimeZone' };
      if (/^TRANSACTION\s+ISOLATION\s+LEVEL$/i.test(rest)) return { kind: 'show', name: 'transaction_isolation' };
      const m = new RegExp(String.raw`^(${WORD}(?:\.${WORD})?)$`).exec(rest);
      return m ? { kind: 'show', name: unquote(m[1]) } : null;
    }
    case 'BEGIN': return { kind: 'begin', tag: 'BEGIN' };
    case 'START': return /^START\s+TRANSACTION\b/i.test(s) ? { kind: 'begin', tag: 'BEGIN' } : null;
    case 'COMMIT': case 'END': return { kind: 'commit', tag: 'COMMIT' };
    case 'ROLLBACK': case 'ABORT': return /\bTO\b/i.test(s) ? null : { kind: 'rollback', tag: 'ROLLBACK' };
    case 'DISCARD': return { kind: 'discard', tag: 'DISCARD ALL' };
    case 'DEALLOCATE': {
      const m = new RegExp(String.raw`^DEALLOCATE\s+(?:PREPARE\s+)?(ALL|${WORD})$`, 'i').exec(s);
      if (!m) return null;
      return m[1].toUpperCase() === 'ALL' ? { kind: 'deallocate', name: null, tag: 'DEALLOCATE ALL' } : { kind: 'deallocate', name: unquote(m[1]), tag: 'DEALLOCATE' };
    }
    case 'UNLISTEN': return { kind: 'noop', tag: 'UNLISTEN' };
    default: return null;
  }
}

function parseSet(s: string): SessionCommand | null {
  if (/^SET\s+(SESSION\s+CHARACTERISTICS\s+AS\s+)?TRANSACTION\b/i.test(s)) return { kind: 'noop', tag: 'SET' };
  const tz = /^SET\s+(?:(?:SESSION|LOCAL)\s+)?TIME\s+ZONE\s+([\s\S]+)$/i.exec(s);
  if (tz) return { kind: 'set', name: 'TimeZone', value: settingValue(tz[1]), tag: 'SET' };
  const names = /^SET\s+NAMES\s+([\s\S]+)$/i.exec(s);
  if (names) return { kind: 'set', name: 'client_encoding', value: settingValue(names[1]), tag: 'SET' };
  const m = SET.exec(s);
  if (!m) return null;
  return { kind: 'set', name: unquote(m[1]), value: settingValue(m[2]), tag: 'SET' };
}

/** `'a', b` → `a, b`; DEFAULT/LOCAL → null (back to the default). */
function settingValue(raw: string): string | null {
  const v = raw.trim();
  if (/^(DEFAULT|LOCAL)$/i.test(v)) return null;
  const items: string[] = [];
  const re = /\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[^,]+)\s*(,|$)/gy;
  for (let m = re.exec(v); m && m[0] !== ''; m = re.exec(v)) {
    const item = m[1].trim();
    if (item.startsWith("'")) items.push(item.slice(1, -1).replace(/''/g, "'"));
    else if (item.startsWith('"')) items.push(item);
    else items.push(item);
  }
  return items.join(', ');
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}
