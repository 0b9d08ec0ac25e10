import { chromium, type Browser } from 'playwright-core';
import { requireTool } from './tools.js';

/**
 * Debian's headless Chromium driven by playwright-core. The flags keep it from reaching for the
 * network on its own (updates, sync, QUIC probes), which a closed test machine refuses. Playwright
 * gives every launch a fresh profile directory of its own.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = requireTool('chromium');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
