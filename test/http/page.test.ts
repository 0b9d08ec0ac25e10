import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { freePort } from '../helpers/servers.js';
import { SCRIPTS, startChild } from '../helpers/children.js';

describe('the status page in a real browser', () => {
  let agent: RunningAgent;
  let browser: Browser;
  beforeAll(async () => {
    agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 1s\n')}`]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
  });

  async function open(viewport = { width: 1100, height: 900 }): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await openPage(browser, agent.url, viewport);
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('live'));
    return { page, errors };
  }

  it('loads with no console errors and shows the host and the verdict', async () => {
    const { page, errors } = await open();
    await expect(page.textContent('#conditions')).resolves.toMatch(/Nothing is saturated|threshold/);
    await expect(page.textContent('#health')).resolves.toMatch(/Last sample/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('transfers under 150 KB in all, compressed', async () => {
    const { page } = await open();
    const sizes = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => (e as PerformanceResourceTiming).transferSize),
    );
    const nav = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceResourceTiming).transferSize);
    const total = sizes.reduce((a, b) => a + b, 0) + nav;
    expect(total).toBeGreaterThan(10_000);
    expect(total).toBeLessThan(150 * 1024);
    await page.close();
  });

  it('fits a phone screen without sideways scrolling of the page', async () => {
    const { page } = await open({ width: 390, height: 740 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('is usable from the keyboard: the skip link moves focus to the verdict', async () => {
    const { page } = await open();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toMatch(/Skip to what is saturated now/);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('now');
    await page.close();
  });

  it('serves its assets gzipped once, identical to the plain bytes', async () => {
    const plain = Buffer.from(await (await fetch(`${agent.url}/assets/page.js`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    expect(gzipSync(plain).length).toBeLessThan(plain.length);
    const res = await fetch(`${agent.url}/assets/page.js`);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.from(await res.arrayBuffer()).equals(plain)).toBe(true);
  });

  it('keeps working across an agent restart: reconnecting, then live again without a reload', async () => {
    const port = await freePort();
    const config = writeConfig('sampling:\n  interval: 1s\n');
    let restarted = await startAgentOn(port, config);
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('live'));
      await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
      await restarted.stop();
      await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('reconnecting'), undefined, { timeout: 20_000 });
      restarted = await startAgentOn(port, config);
      await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('live'), undefined, { timeout: 20_000 });
      // the same document recovered: no reload happened
      expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    } finally {
      await page.close();
      await restarted.stop();
    }
  });
});

describe('the status page with a leaking process', () => {
  it('shows the leak suspect and draws the last-hour charts', async () => {
    const leaker = await startChild(SCRIPTS.leak(1, 100));
    const agent = await startAgent([
      `--config.file=${writeConfig(`sampling: { interval: 500ms, queue_interval: 500ms }\ndetection: { window: 30s, min_window: 15s, confirm: 2s }\ncriteria:\n  - name: leaky\n    include: [{ cmdline: "${leaker.token}" }]\n`)}`,
    ]);
    const browser = await launchChromium();
    try {
      const { page, errors } = await openPage(browser, agent.url);
      const subject = `node ${leaker.token}.js[${leaker.pid}]`;
      await page.waitForFunction((s) => document.querySelector('#leaks tbody')?.textContent?.includes(s), subject, { timeout: 45_000 });
      expect(await page.textContent('#leaks tbody')).toMatch(new RegExp(`process ${subject.replace(/[.[\]]/g, '\\$&')}\\s*private_bytes`));
      await page.waitForFunction(() => document.querySelectorAll('#charts canvas').length >= 3, undefined, { timeout: 20_000 });
      // A drawn chart has non-blank pixels: count them in the first canvas.
      const inked = await page.evaluate(() => {
        const canvas = document.querySelector('#charts canvas') as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
      expect(inked).toBeGreaterThan(100);
      // On a phone, with the leak's alert showing, nothing widens the page.
      await page.waitForFunction(() => document.querySelectorAll('#alerts li:not(.ok)').length > 0, undefined, { timeout: 30_000 });
      await page.setViewportSize({ width: 390, height: 800 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await agent.stop();
      leaker.kill();
    }
  });
});

describe('the status page on a busy host', () => {
  it('shows the hog in the CPU table by pid and display name, every cell filled, and says how much history leak judging still needs', async () => {
    const hog = await startChild(SCRIPTS.hog());
    const agent = await startAgent([`--config.file=${writeConfig('sampling: { interval: 1s }\n')}`]);
    const browser = await launchChromium();
    try {
      const { page, errors } = await openPage(browser, agent.url);
      const row = async () =>
        page.evaluate((pid) => {
          const tr = [...document.querySelectorAll('#cpu-processes tbody tr')].find((r) => r.firstElementChild?.textContent === String(pid));
          return tr ? [...tr.children].map((td) => td.textContent ?? '') : undefined;
        }, hog.pid);
      await page.waitForFunction((pid) => [...document.querySelectorAll('#cpu-processes tbody tr td:first-child')].some((td) => td.textContent === String(pid)), hog.pid, { timeout: 30_000 });
      const cells = (await row())!;
      expect(cells).toHaveLength(10);
      for (const [i, cell] of cells.entries()) expect(cell.trim(), `cell ${i} of ${JSON.stringify(cells)}`).not.toBe('');
      expect(cells[1]).toBe(`node ${hog.token}.js`);
      expect(cells[3]).toMatch(/^\d+%$/);
      expect(Number(cells[3]!.replace('%', ''))).toBeGreaterThan(0);
      expect(cells[8]).toMatch(/\/s$/); // our child's /proc/PID/io is readable: a rate, not n/a
      // The default detection needs 30 minutes of history: the page says how many more.
      await expect(page.textContent('#judging')).resolves.toMatch(/^Judging: \d+ more minutes of history needed/);
      await expect(page.textContent('#leaks tbody')).resolves.toMatch(/too little history/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await agent.stop();
      hog.kill();
    }
  });

  it('greys the whole page with the age of what it shows when the agent stops answering', async () => {
    const agent = await startAgent([`--config.file=${writeConfig('sampling: { interval: 1s }\n')}`]);
    const browser = await launchChromium();
    try {
      const { page } = await openPage(browser, agent.url);
      await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('live'));
      expect(await page.evaluate(() => document.body.className)).toBe('');
      await agent.stop();
      await page.waitForFunction(() => document.body.className === 'stale', undefined, { timeout: 20_000 });
      expect(await page.textContent('#status')).toMatch(/showing data \d+ s old/);
      const opacity = await page.evaluate(() => Number(getComputedStyle(document.querySelector('main')!).opacity));
      expect(opacity).toBeLessThan(1);
    } finally {
      await browser.close();
    }
  });
});

function startAgentOn(port: number, config: string): Promise<RunningAgent> {
  return startAgent([`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`]);
}
