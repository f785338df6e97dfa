// An array whose elements are computed when it is first touched. A loaded image's `sections` and
// `relocations` are such arrays: most loads (fuzz, gate, validate's byte comparison) never read
// them, and an object literal with lazy accessors costs V8 about a microsecond to create.
//
// The value is a Proxy of a real (empty) array: Array.isArray, length, indexing, iteration, every
// array method, spreads, JSON.stringify, util.inspect and vitest's equality all see the elements.
// The first touch of any kind (a read, a key listing, a write) fills the target with make()'s
// elements, once; later accesses go to the filled array through the proxy, but for its iterator
// (`values`, `Symbol.iterator`: a function of its own, not Array.prototype.values), which walks the
// filled array itself. It is not structuredClone-able (no Proxy is): copy it with [...xs] first. A
// lazy array may carry a value about its elements (lazyMeta) that can be read without filling it.

import { inspect } from 'node:util';

const META = Symbol('lazyArray.meta');

/**
 * util.inspect looks at a proxy's target without its traps, and calls the target's inspect.custom
 * with the proxy as `this`: each target carries this one function, which shows the elements. The
 * traps hide the key from every other reader (keys, descriptors, `in`, equality).
 */
const INSPECT = inspect.custom;
function showElements(this: unknown[], _depth: number, options: object): string {
  return inspect(Array.from(this), options);
}

/** Array.prototype.values, which is also Array.prototype[Symbol.iterator]. */
const VALUES = Array.prototype[Symbol.iterator];

/** The traps of one lazy array: each fills the target first (one handler per array holds its make()). */
class LazyHandler<T> implements ProxyHandler<T[]> {
  /** What the array answers for `values` and `Symbol.iterator` (see get). */
  private values: (() => ArrayIterator<T>) | undefined;
  constructor(private make: ((target: T[]) => T[]) | undefined, private readonly meta: unknown) {}

  private filled(target: T[]): T[] {
    const make = this.make;
    if (make) {
      this.make = undefined;
      const xs = make(target);
      if (xs !== target) for (let i = 0; i < xs.length; i++) target.push(xs[i]!);
    }
    return target;
  }

  get(t: T[], p: string | symbol, receiver: unknown): unknown {
    if (p === META) return this.meta;
    if (p === INSPECT) return undefined;
    const v = Reflect.get(this.filled(t), p);
    // for-of, spreads and Array.from iterate the filled array itself, not through these traps (≈ 0.1 µs per element).
    if (v === VALUES) return (this.values ??= function (this: unknown) { return VALUES.call(this === receiver ? t : this); });
    return v;
  }
  set(t: T[], p: string | symbol, v: unknown): boolean {
    return Reflect.set(this.filled(t), p, v);
  }
  has(t: T[], p: string | symbol): boolean {
    return p !== INSPECT && Reflect.has(this.filled(t), p);
  }
  ownKeys(t: T[]): (string | symbol)[] {
    return Reflect.ownKeys(this.filled(t)).filter((k) => k !== INSPECT);
  }
  getOwnPropertyDescriptor(t: T[], p: string | symbol): PropertyDescriptor | undefined {
    return p === INSPECT ? undefined : Reflect.getOwnPropertyDescriptor(this.filled(t), p);
  }
  defineProperty(t: T[], p: string | symbol, d: PropertyDescriptor): boolean {
    return Reflect.defineProperty(this.filled(t), p, d);
  }
  deleteProperty(t: T[], p: string | symbol): boolean {
    return Reflect.deleteProperty(this.filled(t), p);
  }
}

/**
 * An array of make()'s elements, computed at the first access (make runs at most once); `meta` is
 * lazyMeta()'s answer. make() may fill the (empty) array it is given and return it (saves a copy).
 */
export function lazyArray<T>(make: (target: T[]) => T[], meta?: unknown): T[] {
  const target: T[] = [];
  (target as unknown as Record<symbol, unknown>)[INSPECT] = showElements;
  return new Proxy<T[]>(target, new LazyHandler(make, meta));
}

/** The meta value a lazy array was made with (without filling it); undefined for any other array. */
export function lazyMeta(xs: readonly unknown[]): unknown {
  return (xs as unknown as Record<symbol, unknown>)[META];
}
