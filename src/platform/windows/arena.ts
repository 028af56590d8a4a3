/**
 * One contiguous block of native memory for all the input structs of one
 * call, built in JS and copied in once. Pointers inside it are recorded as
 * arena-relative fix-ups and become absolute when the base address is known
 * (`finish(base)`). Pure: no FFI here, so it is tested without a library.
 */
import type { StructLayout } from './layout.js';

export class Arena {
  readonly pointerSize: 4 | 8;
  #buf: Uint8Array = new Uint8Array(256);
  #view: DataView = new DataView(this.#buf.buffer);
  #used = 0;
  /** [offset of the pointer field, arena offset it points at] */
  readonly #fixups: Array<readonly [number, number]> = [];

  constructor(pointerSize: 4 | 8) {
    this.pointerSize = pointerSize;
  }

  get size(): number {
    return this.#used;
  }

  #grow(need: number): void {
    if (need <= this.#buf.length) return;
    let n = this.#buf.length;
    while (n < need) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.#buf);
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Reserves `size` zeroed bytes aligned to `align`; returns the arena offset. */
  reserve(size: number, align = 8): number {
    const off = Math.ceil(this.#used / align) * align;
    this.#grow(off + size);
    this.#used = off + size;
    return off;
  }

  /** Reserves one struct of `layout`, zeroed. */
  struct(layout: StructLayout): number {
    return this.reserve(layout.size, layout.align);
  }

  bytes(data: Uint8Array): number {
    const off = this.reserve(Math.max(1, data.length), 8);
    this.#buf.set(data, off);
    return off;
  }

  /** A NUL-terminated UTF-16LE string (PCWSTR). */
  utf16z(text: string): number {
    const off = this.reserve((text.length + 1) * 2, 2);
    for (let i = 0; i < text.length; i++) this.#view.setUint16(off + i * 2, text.charCodeAt(i), true);
    return off;
  }

  u32(off: number, value: number): void {
    this.#view.setUint32(off, value >>> 0, true);
  }

  i32(off: number, value: number): void {
    this.#view.setInt32(off, value | 0, true);
  }

  bool(off: number, value: boolean): void {
    this.i32(off, value ? 1 : 0);
  }

  /** Makes the pointer at `off` point at arena offset `target` (null leaves NULL). */
  ptr(off: number, target: number | null): void {
    if (target === null) return;
    this.#fixups.push([off, target]);
  }

  /** Field helpers over a struct placed at `base`. */
  at(layout: StructLayout, base: number): StructWriter {
    return new StructWriter(this, layout, base);
  }

  /** Zeroes the JS copy (PRF inputs, hmac salts and blobs may be secret). */
  wipe(): void {
    this.#buf.fill(0);
  }

  /** The arena bytes with every pointer made absolute against `base`. */
  finish(base: bigint): Uint8Array {
    const out = this.#buf.slice(0, Math.max(1, this.#used));
    const view = new DataView(out.buffer);
    for (const [off, target] of this.#fixups) {
      const abs = base + BigInt(target);
      if (this.pointerSize === 8) view.setBigUint64(off, abs, true);
      else view.setUint32(off, Number(abs & 0xffff_ffffn), true);
    }
    return out;
  }
}

export class StructWriter {
  readonly arena: Arena;
  readonly layout: StructLayout;
  readonly base: number;
  constructor(arena: Arena, layout: StructLayout, base: number) {
    this.arena = arena;
    this.layout = layout;
    this.base = base;
  }
  off(field: string): number {
    return this.base + this.layout.offset(field);
  }
  u32(field: string, v: number): this {
    this.arena.u32(this.off(field), v);
    return this;
  }
  i32(field: string, v: number): this {
    this.arena.i32(this.off(field), v);
    return this;
  }
  bool(field: string, v: boolean): this {
    this.arena.bool(this.off(field), v);
    return this;
  }
  ptr(field: string, target: number | null): this {
    this.arena.ptr(this.off(field), target);
    return this;
  }
  /** cbX + pbX pair. */
  blob(countField: string, ptrField: string, data: Uint8Array | undefined): this {
    if (data === undefined) return this;
    this.u32(countField, data.length);
    return this.ptr(ptrField, this.arena.bytes(data));
  }
  wstr(field: string, text: string | undefined): this {
    if (text === undefined) return this;
    return this.ptr(field, this.arena.utf16z(text));
  }
  /** A writer for an embedded struct field. */
  sub(field: string): StructWriter {
    const f = this.layout.field(field);
    if (typeof f.type === 'string') throw new TypeError(`${this.layout.name}.${field} is not a struct`);
    return new StructWriter(this.arena, f.type, this.base + f.offset);
  }
}
