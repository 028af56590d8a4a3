/**
 * Loads the third-party vectors in ../shared/vectors/ (see its README for the
 * schema). Each vector cites its source; tests name vectors by id.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const VECTORS_DIR = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
export const CHROMIUM_DIR = fileURLToPath(new URL('../../../shared/reference/chromium-webauthn/', import.meta.url));

export interface Vector {
  id: string;
  kind: string;
  origin: string;
  source: Record<string, unknown>;
  input: string;
  expected: Record<string, unknown> & { [k: string]: unknown };
  notes?: string;
  [extra: string]: unknown;
}

export function loadVectors(file: string): Vector[] {
  const raw = JSON.parse(readFileSync(join(VECTORS_DIR, file.endsWith('.json') ? file : `${file}.json`), 'utf8')) as {
    vectors: Vector[];
  };
  return raw.vectors;
}

export function loadChromium(file: string): unknown {
  return JSON.parse(readFileSync(join(CHROMIUM_DIR, file.endsWith('.json') ? file : `${file}.json`), 'utf8'));
}
