import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Relocation log entries compared by all their fields (their 64-bit fields are accessors).
    setupFiles: ['test/setup.ts'],
    // Live oracle tests start processes (qemu-user for ppc64); a loaded 2-core CI machine needs room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
