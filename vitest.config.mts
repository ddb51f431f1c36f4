import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/integration/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two worker processes that keep @pulumi/* loaded between files: every render resets the
    // program's modules and the mock runtime itself (test/helpers/render.ts), and no test mocks
    // modules or globals. Halves the suite's time on a 2-core machine.
    isolate: false,
    maxWorkers: 2,
    globalSetup: ["test/global-setup.ts"],
  },
});
