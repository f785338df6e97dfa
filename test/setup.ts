// vitest setup (vitest.config.ts setupFiles): equality that sees every field of a relocation log
// entry. LoggedRelocation's 64-bit fields and bytes are prototype accessors (RelocationLogEntry in
// src/types.ts), which toEqual's own-property walk would skip: an entry is compared as its
// toJSON(), the plain entry, whatever it is compared with (a plain object or another entry).
import { expect } from 'vitest';
import { LoggedRelocation } from '../src/load/relocation-log.ts';

const plain = (x: unknown): unknown => (x instanceof LoggedRelocation ? x.toJSON() : x);

expect.addEqualityTesters([
  function relocationLogEntries(a, b, customTesters) {
    if (!(a instanceof LoggedRelocation) && !(b instanceof LoggedRelocation)) return undefined;
    return this.equals(plain(a), plain(b), customTesters);
  },
]);
