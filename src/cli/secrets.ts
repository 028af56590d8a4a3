/**
 * Where `ctap` gets PINs: `--pin-stdin` (one PIN per line: the current PIN
 * first, then a new one where a command needs it), the CTAP_PIN /
 * CTAP_NEW_PIN environment variables, or a no-echo prompt when stdin and
 * stderr are terminals. Never from argv. PINs stay in Uint8Arrays that the
 * caller zeroes; the environment variables are removed from process.env once
 * read, so child processes do not inherit them.
 */
import type { Readable } from 'node:stream';
import { utf8Encode } from '../util/bytes.js';
import { AbortedError } from '../util/errors.js';
import { CliError, EXIT } from './errors.js';

export type PinPurpose = 'current' | 'new';

const MAX_LINE = 256;

export interface SecretSourceOptions {
  pinStdin: boolean;
  stdin?: (Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }) | undefined;
  stderr?: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export class SecretSource {
  readonly #pinStdin: boolean;
  readonly #stdin: NonNullable<SecretSourceOptions['stdin']>;
  readonly #stderr: NonNullable<SecretSourceOptions['stderr']>;
  readonly #env: NodeJS.ProcessEnv;
  #lines: Uint8Array[] | undefined;
  #next = 0;
  #envTaken = new Set<string>();
  #aroundPrompt: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn();

  constructor(opts: SecretSourceOptions) {
    this.#pinStdin = opts.pinStdin;
    this.#stdin = opts.stdin ?? process.stdin;
    this.#stderr = opts.stderr ?? process.stderr;
    this.#env = opts.env ?? process.env;
  }

  /** True when a PIN can be had without failing (a source is configured or a terminal can prompt). */
  get available(): boolean {
    return this.#pinStdin || this.#env.CTAP_PIN !== undefined || this.#canPrompt;
  }

  get #canPrompt(): boolean {
    return this.#stdin.isTTY === true && this.#stderr.isTTY === true && typeof this.#stdin.setRawMode === 'function';
  }

  /**
   * A PIN as UTF-8 bytes (a fresh buffer the caller must zero). `prompt` is
   * shown only on a terminal.
   */
  async pin(purpose: PinPurpose, prompt: string, opts: { envNames?: readonly string[] } = {}): Promise<Uint8Array> {
    if (this.#pinStdin) {
      const lines = await this.#stdinLines();
      const line = lines[this.#next++];
      if (!line) {
        throw new CliError(
          purpose === 'new'
            ? '--pin-stdin: expected the new PIN on the next line of standard input (current PIN first, then the new one)'
            : '--pin-stdin: standard input held no PIN line',
          EXIT.PIN,
        );
      }
      return line;
    }
    for (const envName of opts.envNames ?? [purpose === 'new' ? 'CTAP_NEW_PIN' : 'CTAP_PIN']) {
      const fromEnv = this.#env[envName];
      if (fromEnv !== undefined && !this.#envTaken.has(envName)) {
        this.#envTaken.add(envName);
        delete this.#env[envName];
        return utf8Encode(fromEnv);
      }
    }
    if (this.#canPrompt) return this.#aroundPrompt(() => this.#prompt(prompt));
    throw new CliError(
      purpose === 'new'
        ? `A new PIN is needed: pass it on standard input with --pin-stdin (after the current PIN, if any) or set ${(opts.envNames ?? ['CTAP_NEW_PIN']).join(' or ')}`
        : 'A PIN is needed: pass it on standard input with --pin-stdin, set CTAP_PIN, or run in a terminal to be prompted',
      EXIT.PIN,
    );
  }

  /** Wraps each terminal prompt (the CLI stops its --timeout clock while a person types). */
  setPromptWrapper(wrap: <T>(fn: () => Promise<T>) => Promise<T>): void {
    this.#aroundPrompt = wrap;
  }

  /** Zero whatever stdin lines were not consumed. */
  dispose(): void {
    if (this.#lines) for (const l of this.#lines) l.fill(0);
  }

  async #stdinLines(): Promise<Uint8Array[]> {
    if (this.#lines) return this.#lines;
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of this.#stdin) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      chunks.push(b);
      total += b.length;
      if (total > 64 * MAX_LINE) break;
    }
    const all = Buffer.concat(chunks);
    for (const c of chunks) c.fill(0);
    const lines: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i <= all.length; i++) {
      if (i === all.length || all[i] === 0x0a) {
        let end = i;
        if (end > start && all[end - 1] === 0x0d) end--;
        if (i < all.length || end > start) lines.push(new Uint8Array(all.subarray(start, end)));
        start = i + 1;
      }
    }
    all.fill(0);
    this.#lines = lines;
    return lines;
  }

  /** No-echo terminal prompt: raw mode, bytes kept in a Uint8Array, Ctrl-C aborts. */
  #prompt(prompt: string): Promise<Uint8Array> {
    const stdin = this.#stdin;
    this.#stderr.write(prompt);
    return new Promise((resolve, reject) => {
      const buf = new Uint8Array(MAX_LINE);
      let n = 0;
      const done = (err?: Error): void => {
        stdin.off('data', onData);
        stdin.setRawMode?.(false);
        stdin.pause();
        this.#stderr.write('\n');
        if (err) {
          buf.fill(0);
          reject(err);
        } else {
          const out = buf.slice(0, n);
          buf.fill(0);
          resolve(out);
        }
      };
      const onData = (chunk: Buffer): void => {
        for (const b of chunk) {
          if (b === 0x03) return done(new AbortedError('PIN entry cancelled'));
          if (b === 0x0d || b === 0x0a) return done();
          if (b === 0x7f || b === 0x08) {
            if (n > 0) {
              // drop one UTF-8 character
              do n--; while (n > 0 && (buf[n]! & 0xc0) === 0x80);
              buf[n] = 0;
            }
            continue;
          }
          if (b < 0x20) continue;
          if (n < buf.length) buf[n++] = b;
        }
        chunk.fill(0);
      };
      stdin.setRawMode?.(true);
      stdin.on('data', onData);
      stdin.resume();
    });
  }
}

/** Yes/no on a terminal; false (refuse) when there is none. */
export async function confirmOnTty(question: string, io: { stdin?: SecretSourceOptions['stdin']; stderr?: SecretSourceOptions['stderr'] } = {}): Promise<boolean> {
  const stdin = io.stdin ?? process.stdin;
  const stderr = io.stderr ?? process.stderr;
  if (stdin.isTTY !== true || stderr.isTTY !== true) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: stdin, output: stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
