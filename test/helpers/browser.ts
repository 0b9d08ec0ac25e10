import { chromium, type Browser, type Page } from 'playwright-core';
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

/** Opens `url` in a new page that records console errors and uncaught page errors from its first load. */
export async function openPage(browser: Browser, url: string, viewport = { width: 1100, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, errors };
}
