// A model of the C loader's memory: section data pointers (sh_data) point either into the
// file buffer or into the image buffer. Every access is bounds-checked; an access the C code
// would make outside its buffers becomes an `out-of-bounds` rejection (undefined behaviour in C).
import { ByteView } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import type { Endian, Where } from '../types.ts';

export type BufId = 'file' | 'image';

export interface Ptr {
  buf: BufId;
  off: bigint;
}

export class CMem {
  readonly file: Uint8Array;
  image: Uint8Array = new Uint8Array(0);
  /** Views with the *file's* byte order (for parsing) and the *store* byte order (host-endian C stores). */
  fileView: ByteView;
  imageView: ByteView;
  fileStore: ByteView;
  imageStore: ByteView;

  constructor(bytes: Uint8Array, readonly fileEndian: Endian, readonly storeEndian: Endian) {
    this.file = bytes.slice(); // the C loader may write into its copy of the file
    this.fileView = new ByteView(this.file, fileEndian);
    this.fileStore = this.fileView.withEndian(storeEndian);
    this.imageView = new ByteView(this.image, fileEndian);
    this.imageStore = this.imageView;
  }

  setImage(image: Uint8Array): void {
    this.image = image;
    this.imageView = new ByteView(image, this.fileEndian);
    this.imageStore = this.imageView.withEndian(this.storeEndian);
  }

  bytesOf(b: BufId): Uint8Array {
    return b === 'file' ? this.file : this.image;
  }

  /** Resolve [p, p+len) to a number offset, or reject as out-of-bounds. */
  check(p: Ptr, len: number | bigint, what: string, where: Where = {}): number {
    const size = BigInt(this.bytesOf(p.buf).length);
    const l = BigInt(len);
    if (p.off < 0n || p.off + l > size) {
      throw new LoadError(
        'out-of-bounds',
        `C loader would access ${what} at ${p.buf} buffer offset ${p.off} (+${l}), outside its ${size} bytes (undefined behaviour)`,
        { ...where, access: { buf: p.buf, offset: p.off, length: l, size } },
      );
    }
    return Number(p.off);
  }

  view(p: Ptr, len: number, what: string, where?: Where): { view: ByteView; off: number } {
    const off = this.check(p, len, what, where);
    return { view: p.buf === 'file' ? this.fileView : this.imageView, off };
  }

  store(p: Ptr, len: number, what: string, where?: Where): { view: ByteView; off: number } {
    const off = this.check(p, len, what, where);
    return { view: p.buf === 'file' ? this.fileStore : this.imageStore, off };
  }

  /** Read a NUL-terminated C string; undefined if it runs off its buffer (only used for messages). */
  cstring(p: Ptr, max = 4096): string | undefined {
    const b = this.bytesOf(p.buf);
    if (p.off < 0n || p.off >= BigInt(b.length)) return undefined;
    let s = '';
    for (let i = Number(p.off); i < b.length && s.length < max; i++) {
      if (b[i] === 0) return s;
      s += String.fromCharCode(b[i]!);
    }
    return undefined;
  }

  /** strcmp(p, name) == 0, reading only as far as strcmp would. */
  streq(p: Ptr, name: string, what: string, where?: Where): boolean {
    const b = this.bytesOf(p.buf);
    for (let i = 0; i <= name.length; i++) {
      const want = i < name.length ? name.charCodeAt(i) : 0;
      const off = this.check({ buf: p.buf, off: p.off + BigInt(i) }, 1, what, where);
      if (b[off] !== want) return false;
    }
    return true;
  }
}
