/**
 * Output for `ctap`: results on stdout (aligned text for a human, stable JSON
 * with --json), prompts and progress on stderr only when stderr is a TTY,
 * errors on stderr always.
 */
import type { Writable } from 'node:stream';
import { errorReport, humanMessage } from './errors.js';

export interface OutputStreams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export type Row = readonly [label: string, value: string | number | boolean | undefined | null];

export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly streams: OutputStreams;

  constructor(opts: { json: boolean; verbose: boolean }, streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }) {
    this.json = opts.json;
    this.verbose = opts.verbose;
    this.streams = streams;
  }

  /** stderr is a terminal: prompts and progress may be shown. */
  get interactive(): boolean {
    return this.streams.stderr.isTTY === true;
  }

  /** One line on stdout. */
  line(s = ''): void {
    this.streams.stdout.write(`${s}\n`);
  }

  /** A JSON document on stdout (stable: 2-space indent, one trailing newline). */
  printJson(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Print `json` with --json, else run the human renderer. */
  result(json: unknown, human: () => void): void {
    if (this.json) this.printJson(json);
    else human();
  }

  /** Label/value pairs, labels padded so the values line up; undefined values are skipped. */
  fields(rows: readonly Row[], indent = ''): void {
    const shown = rows.filter((r) => r[1] !== undefined && r[1] !== null);
    const width = Math.max(0, ...shown.map((r) => r[0].length));
    for (const [label, value] of shown) this.line(`${indent}${(label + ':').padEnd(width + 2)}${String(value)}`);
  }

  /** A table with a header row; columns padded to their widest cell. */
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (cells: readonly string[]): string =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
    this.line(fmt(headers));
    for (const r of rows) this.line(fmt(r));
  }

  /** Progress or a prompt-like notice ("Touch your key"): stderr, TTY only. */
  status(message: string): void {
    if (this.interactive) this.streams.stderr.write(`${message}\n`);
  }

  /** A warning a user should see even when not on a TTY (suppressed with --json unless --verbose). */
  warn(message: string): void {
    if (!this.json || this.verbose) this.streams.stderr.write(`warning: ${message}\n`);
  }

  /** --verbose diagnostics (frame trace): stderr. */
  debug(message: string): void {
    if (this.verbose) this.streams.stderr.write(`${message}\n`);
  }

  /** The failure: JSON body with --json, else one line. */
  error(e: unknown): void {
    if (this.json) this.streams.stderr.write(`${JSON.stringify({ error: errorReport(e) })}\n`);
    else this.streams.stderr.write(`ctap: ${humanMessage(e)}\n`);
  }
}
