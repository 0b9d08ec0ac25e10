import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent, writeConfig } from '../helpers/agent.js';
import { launchChromium, openPage } from '../helpers/browser.js';
import { killAllChildren, startChild } from '../helpers/children.js';
import { childCriteria, holdFds } from '../helpers/engine.js';

afterAll(killAllChildren);

describe('the status page with a policy', () => {
  it('shows the managing policy and its recent actions', async () => {
    const child = await startChild(holdFds(40));
    const dir = mkdtempSync(join(tmpdir(), 'ca-policy-page-'));
    const agent = await startAgent([`--config.file=${writeConfig(`sampling: { interval: 1s }
criteria:
${childCriteria('kid', child.token)}policies:
  - name: watch
    allocations: [{ criteria: kid, max_handles: { limit: 30, action: log } }]
active_policy: watch
enforcement: { audit_log: { path: ${join(dir, 'audit.jsonl')} }, evidence_dir: ${join(dir, 'evidence')} }
`)}`]);
    const browser = await launchChromium();
    try {
      const { page, errors } = await openPage(browser, agent.url);
      await page.waitForFunction(() => document.getElementById('actions')?.textContent?.includes('logged'), undefined, { timeout: 20_000 });
      expect(await page.textContent('#policy')).toBe('Active policy: watch');
      expect(await page.textContent('#actions')).toMatch(new RegExp(`log node \\(pid ${child.pid}\\) for handles under watch/kid: logged`));
      // The policy's alert is on the page's alert list too.
      await page.waitForFunction(() => document.body.textContent?.includes('PolicyLimitExceeded'), undefined, { timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await agent.stop();
    }
  });
});
