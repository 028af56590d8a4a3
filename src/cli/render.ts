/** Human rendering of JSON-shaped results: nested, aligned, long hex wrapped. */
import type { JsonValue } from '../ctap2/json.js';
import type { Output } from './output.js';

const WRAP = 64;

function scalar(v: JsonValue): string | undefined {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return v.length === 0 ? '(none)' : v.map(String).join(', ');
  return undefined;
}

/** Print a JSON value as an indented tree; scalars and flat lists on one line. */
export function printTree(out: Output, value: JsonValue, indent = ''): void {
  if (value === null || typeof value !== 'object') {
    out.line(`${indent}${scalar(value)}`);
    return;
  }
  const entries: [string, JsonValue][] = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v]) : Object.entries(value);
  const width = Math.max(0, ...entries.filter(([, v]) => scalar(v) !== undefined).map(([k]) => k.length));
  for (const [k, v] of entries) {
    const s = scalar(v);
    if (s === undefined) {
      out.line(`${indent}${k}:`);
      printTree(out, v, `${indent}  `);
    } else if (s.length > WRAP && /^[0-9a-f]+$/.test(s)) {
      out.line(`${indent}${`${k}:`.padEnd(width + 2)}(${s.length / 2} bytes)`);
      for (let i = 0; i < s.length; i += WRAP) out.line(`${indent}  ${s.slice(i, i + WRAP)}`);
    } else {
      out.line(`${indent}${`${k}:`.padEnd(width + 2)}${s}`);
    }
  }
}
