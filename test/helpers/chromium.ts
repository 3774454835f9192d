import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The system Chromium the report tests drive (Debian's `chromium` package). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a quiet, offline headless run: no sandbox (containers run as root), no GPU,
 * and none of Chromium's own background traffic (updates, sync, QUIC probes), so any
 * request a test sees comes from the page.
 */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
] as const;

export function chromiumAvailable(executablePath = CHROMIUM_PATH): boolean {
  return existsSync(executablePath);
}

/**
 * A headless Chromium. Playwright gives every `launch()` a fresh temporary user data
 * dir and removes it on `close()`, so no profile state leaks between runs.
 * Skips the calling suite (from a `before` hook) when Chromium is not installed.
 */
export async function launchChromium(hook: Mocha.Context, executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!chromiumAvailable(executablePath)) {
    process.stderr.write(`skipping "${hook.currentTest?.parent?.title ?? hook.test?.parent?.title}": no Chromium at ${executablePath} (apt-get install -y chromium)\n`);
    hook.skip(); // throws: the suite's tests are reported as pending
  }
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}
