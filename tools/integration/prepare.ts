/**
 * `.ci/run` starts this in the background while the Go toolchain builds: the integration suite's
 * slow downloads (its Debian packages, the debootstrap guest image, the app's wheels from PyPI)
 * are network-bound and overlap with a CPU-bound compile. Purely a head start: it fills the same
 * caches the suite checks (test/integration/guest.ts, app/app.ts), so whatever it did not finish
 * the suite does itself. CI waits for it before the suite starts (the guest image is built into
 * one directory: two builders must not race).
 */
import { ensureGuestImage, ensureTools } from "../../test/integration/guest";
import { ensureWheels } from "../../test/integration/app/app";

const log = (s: string) => process.stdout.write(`prepare: ${s}\n`);

async function main(): Promise<void> {
  const t0 = Date.now();
  ensureTools();
  const [image, wheels] = await Promise.all([ensureGuestImage(log), ensureWheels(log)]);
  log(
    `guest image ${image.built ? `built in ${image.buildSeconds.toFixed(0)} s` : "cached"}; wheels ${wheels.fetched ? "fetched" : "cached"}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`prepare: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
