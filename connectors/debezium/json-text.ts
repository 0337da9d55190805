/**
 * JSON parsing that keeps numbers exact. Debezium's JSON converter writes int64 values (ids,
 * NanoTimestamps), and decimals when `decimal.format=NUMERIC`, as JSON numbers that a double
 * cannot hold: JSON.parse would silently round them (9007199254740993 becomes ...992). Here an
 * integer that fits a double exactly is a number, and any other number keeps its literal text.
 */

/** A JSON number a double may not hold exactly: a fraction, an exponent, or a large integer. */
export class JsonNumber {
  constructor(readonly text: string) {}
  get isInteger(): boolean {
    return !/[.eE]/.test(this.text);
  }
}

export type JsonValue = null | boolean | number | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** Thrown for malformed text; callers turn it into a SluiceError that names the message. */
export class JsonSyntaxError extends Error {
  constructor(message: string, readonly at: number) {
    super(`${message} at character ${at}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Parser {
  private at = 0;
  constructor(private readonly s: string) {}

  parseDocument(): JsonValue {
    const v = this.value();
    this.space();
    if (this.at < this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  /**
   * A document as Kafka Connect's JsonConverter writes it: `{"schema": ..., "payload": ...}` with
   * schemas enabled, else the bare payload. The schema is not parsed, only skipped over and
   * returned as text: a topic repeats the same schema in every message, and its text is the key
   * under which the caller keeps the schema it already read.
   */
  parseConverterDocument(): { wrapped: boolean; schemaText: string | undefined; value: JsonValue } {
    this.space();
    if (this.s.charCodeAt(this.at) !== 0x7b) return { wrapped: false, schemaText: undefined, value: this.parseDocument() };
    this.at++;
    const out: JsonObject = {};
    let schemaText: string | undefined;
    let keys = 0;
    this.space();
    if (this.s.charCodeAt(this.at) === 0x7d) this.at++;
    else {
      for (;;) {
        const key = this.propertyName();
        keys++;
        if (key === 'schema') {
          this.space();
          const start = this.at;
          this.skipValue();
          schemaText = this.s.slice(start, this.at);
        } else {
          const v = this.value();
          if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
          else out[key] = v;
        }
        this.space();
        const c = this.s.charCodeAt(this.at++);
        if (c === 0x7d) break;
        if (c !== 0x2c) this.at--, this.fail("expected ',' or '}'");
      }
    }
    this.space();
    if (this.at < this.s.length) this.fail('unexpected text after the JSON value');
    if (schemaText !== undefined && keys === 2 && 'payload' in out) return { wrapped: true, schemaText, value: out.payload };
    // Not the converter's wrapper after all: a row that happens to have a "schema" column.
    if (schemaText !== undefined) out.schema = parseJson(schemaText);
    return { wrapped: false, schemaText: undefined, value: out };
  }

  /**
   * Moves past one value without building it: one pass over the characters, tracking only
   * whether it is inside a string and how deep in brackets. Lenient (the text is parsed properly
   * when it is first seen); what it must get right is where the value ends.
   */
  private skipValue(): void {
    const s = this.s;
    const n = s.length;
    let i = this.at;
    const first = s.charCodeAt(i);
    if (first !== 0x7b && first !== 0x5b && first !== 0x22) {
      this.value();
      return;
    }
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (inString) {
        if (c === 0x5c) i++;
        else if (c === 0x22) {
          inString = false;
          if (depth === 0) break;
        }
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) break;
    }
    if (i >= n) {
      this.at = n;
      this.fail('unexpected end of JSON');
    }
    this.at = i + 1;
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(what, this.at);
  }

  private space(): void {
    const s = this.s;
    let c = s.charCodeAt(this.at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++this.at);
  }

  /** `"name" :` of an object member, leaving the position at its value. */
  private propertyName(): string {
    this.space();
    if (this.s.charCodeAt(this.at) !== 0x22) this.fail('expected a property name');
    const key = this.string();
    this.space();
    if (this.s.charCodeAt(this.at++) !== 0x3a) this.at--, this.fail("expected ':'");
    return key;
  }

  private value(): JsonValue {
    this.space();
    const c = this.s.charCodeAt(this.at);
    if (c === 0x22) return this.string();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.s.startsWith('true', this.at)) return (this.at += 4), true;
    if (this.s.startsWith('false', this.at)) return (this.at += 5), false;
    if (this.s.startsWith('null', this.at)) return (this.at += 4), null;
    return this.fail(this.at >= this.s.length ? 'unexpected end of JSON' : 'unexpected character');
  }

  private number(): number | JsonNumber {
    // Most numbers are plain integers: read the digits directly, without the regex.
    const s = this.s;
    const start = this.at;
    let i = s.charCodeAt(start) === 0x2d ? start + 1 : start;
    const digits = i;
    let c = s.charCodeAt(i);
    while (c >= 0x30 && c <= 0x39) c = s.charCodeAt(++i);
    if (i > digits && c !== 0x2e && c !== 0x65 && c !== 0x45 && (s.charCodeAt(digits) !== 0x30 || i === digits + 1)) {
      this.at = i;
      const text = s.slice(start, i);
      // Up to 15 digits always fit; a longer integer is kept as a number only if it is safe.
      if (i - digits <= 15) return Number(text);
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : new JsonNumber(text);
    }
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('malformed number');
    const text = m[0];
    this.at += text.length;
    // Up to 15 digits always round-trip; longer integers only when they are safe.
    if (!/[.eE]/.test(text) && (text.length <= 15 || Number.isSafeInteger(Number(text)))) return Number(text);
    return new JsonNumber(text);
  }

  private string(): string {
    const s = this.s;
    const start = ++this.at;
    const end = s.indexOf('"', start);
    if (end < 0) this.fail('unterminated string');
    const slash = s.indexOf('\\', start);
    if (slash < 0 || slash > end) {
      this.at = end + 1;
      return s.slice(start, end);
    }
    let out = '';
    let from = start;
    for (;;) {
      const q = s.indexOf('"', from);
      const b = s.indexOf('\\', from);
      if (q < 0) this.fail('unterminated string');
      if (b < 0 || q < b) {
        this.at = q + 1;
        return out + s.slice(from, q);
      }
      out += s.slice(from, b);
      const e = s[b + 1];
      if (e === 'u') {
        const hex = s.slice(b + 2, b + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.at = b;
          this.fail('malformed \\u escape');
        }
        out += String.fromCharCode(parseInt(hex, 16));
        from = b + 6;
      } else {
        const r = ESCAPES[e];
        if (r === undefined) {
          this.at = b;
          this.fail('malformed escape');
        }
        out += r;
        from = b + 2;
      }
    }
  }

  private array(): JsonValue[] {
    this.at++;
    const out: JsonValue[] = [];
    this.space();
    if (this.s.charCodeAt(this.at) === 0x5d) return this.at++, out;
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.s.charCodeAt(this.at++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.at--, this.fail("expected ',' or ']'");
    }
  }

  private object(): JsonObject {
    this.at++;
    const out: JsonObject = {};
    this.space();
    if (this.s.charCodeAt(this.at) === 0x7d) return this.at++, out;
    for (;;) {
      const key = this.propertyName();
      const v = this.value();
      // A "__proto__" key must stay data, as JSON.parse keeps it.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.space();
      const c = this.s.charCodeAt(this.at++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.at--, this.fail("expected ',' or '}'");
    }
  }
}

export function parseJson(text: string): JsonValue {
  return new Parser(text).parseDocument();
}

/** See Parser.parseConverterDocument. */
export function parseConverterJson(text: string): { wrapped: boolean; schemaText: string | undefined; value: JsonValue } {
  return new Parser(text).parseConverterDocument();
}

/** JSON text of a parsed value, numbers exactly as they were written. */
export function stringifyJson(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifyJson).join(',')}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${stringifyJson(v[k])}`)
    .join(',')}}`;
}

/** The literal text of a JSON number, exact. */
export function numberText(v: number | JsonNumber): string {
  return typeof v === 'number' ? String(v) : v.text;
}
