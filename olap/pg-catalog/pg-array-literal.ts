import { literal } from '../../core/sql.js';

/**
 * A Postgres array literal (`{a,"b c",NULL}`, nested `{{1,2},{3,4}}`) as a DuckDB list
 * expression (`['a', 'b c', NULL]`), elements as string constants that DuckDB casts to the
 * element type it needs, as Postgres does with the literal's text. With `bareNumbers`,
 * unquoted numbers stay numbers, for where no cast says what the elements are
 * (`x = ANY('{1,2}')`). Null when the text is not an array literal.
 */
export function pgArrayLiteralToList(text: string, bareNumbers = false): string | null {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const parseArray = (): string | null => {
    if (text[i] !== '{') return null;
    i++;
    const items: string[] = [];
    ws();
    if (text[i] === '}') {
      i++;
      return '[]';
    }
    for (;;) {
      ws();
      let item: string | null;
      if (text[i] === '{') item = parseArray();
      else if (text[i] === '"') {
        let v = '';
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          v += text[i++] ?? '';
        }
        if (text[i] !== '"') return null;
        i++;
        item = literal(v);
      } else {
        const start = i;
        while (i < text.length && !/[,}]/.test(text[i])) {
          if (text[i] === '\\') i++;
          i++;
        }
        const raw = text.slice(start, i).trim().replace(/\\(.)/g, '$1');
        if (raw === '') return null;
        item = raw.toUpperCase() === 'NULL' ? 'NULL' : bareNumbers && /^-?\d+(\.\d+)?$/.test(raw) ? raw : literal(raw);
      }
      if (item === null) return null;
      items.push(item);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return `[${items.join(', ')}]`;
      }
      return null;
    }
  };
  ws();
  const list = parseArray();
  ws();
  return list !== null && i === text.length ? list : null;
}
