import { defineConfig } from "vitest/config";

// `npm run test:integration`: the hosts target against a real Debian VM (test/integration/).
// Slow by nature (debootstrap on the first run, a VM under software emulation): long timeouts,
// one file at a time.
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    testTimeout: 20 * 60_000,
    hookTimeout: 45 * 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
