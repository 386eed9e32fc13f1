#!/usr/bin/env node
// Browser end-to-end tests of the live dashboard, through the edge over HTTPS.
//
//   node e2e/run.mjs --base-url https://localhost:7443 --scenario live|ten-tabs|recover [options]
//
// playwright-core drives Debian's /usr/bin/chromium headless (nothing is downloaded). The system
// must already run (the harness starts it); the page must offer the development sign-in.
//
// Output: progress on stderr; one JSON object on the last line of stdout ({ scenario, ok, ... }).
// Exit codes: 0 passed, 1 an assertion failed, 2 could not run (no chromium, bad arguments, the
// base URL does not answer, no sign-in offered).
//
// recover: after the page is live the script prints the line READY_FOR_RESTART on stdout and waits
// for one line on stdin; the harness stops and restarts Metrics.Api, then writes that line. The
// script then checks the same page (never reloaded) came back by itself and lost no event: every
// break in the received ids is a `gap` the service announced (ids from a process that no longer
// exists), and ids are otherwise contiguous and strictly increasing.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

const usage = `usage: node e2e/run.mjs --base-url https://localhost:7443 --scenario live|ten-tabs|recover
  [--user e2e] [--screenshot docs/dashboard.png] [--tabs 10] [--timeout-ms 60000]
  [--restart-timeout-ms 180000] [--chromium /usr/bin/chromium] [--color-scheme light|dark]`;

class SetupError extends Error {}
class CheckFailed extends Error {}

const log = (...parts) => console.error('[e2e]', ...parts);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        'base-url': { type: 'string' },
        scenario: { type: 'string' },
        user: { type: 'string', default: 'e2e' },
        screenshot: { type: 'string' },
        tabs: { type: 'string', default: '10' },
        'timeout-ms': { type: 'string', default: '60000' },
        'restart-timeout-ms': { type: 'string', default: '180000' },
        chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
        'color-scheme': { type: 'string', default: 'light' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new SetupError(`${error.message}\n${usage}`);
  }
  if (parsed.help) {
    console.error(usage);
    process.exit(0);
  }
  const scenario = parsed.scenario;
  if (!['live', 'ten-tabs', 'recover'].includes(scenario ?? '')) {
    throw new SetupError(`--scenario must be live, ten-tabs or recover.\n${usage}`);
  }
  let baseUrl;
  try {
    baseUrl = new URL(parsed['base-url'] ?? '');
  } catch {
    throw new SetupError(`--base-url must be an absolute URL such as https://localhost:7443.\n${usage}`);
  }
  const screenshot = parsed.screenshot ?? (scenario === 'live' ? resolve(repoRoot, 'docs/dashboard.png') : undefined);
  return {
    scenario,
    baseUrl: baseUrl.origin,
    user: parsed.user,
    screenshot: screenshot ? resolve(process.cwd(), screenshot) : undefined,
    tabs: Number.parseInt(parsed.tabs, 10),
    timeoutMs: Number.parseInt(parsed['timeout-ms'], 10),
    restartTimeoutMs: Number.parseInt(parsed['restart-timeout-ms'], 10),
    chromium: parsed.chromium,
    colorScheme: parsed['color-scheme'] === 'dark' ? 'dark' : 'light',
  };
}

async function launch(opts) {
  if (!existsSync(opts.chromium)) {
    throw new SetupError(
      `Chromium was not found at ${opts.chromium}. Install Debian's package (apt-get install -y chromium) or pass --chromium /path/to/chromium. ` +
        'The tests never download a browser.',
    );
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new SetupError(`playwright-core is not installed: run "npm ci" in ${here}.`);
  }
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: [
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      // Background tabs must not be throttled: ten dashboards stay live side by side.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1366, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: opts.colorScheme,
  });
  return { browser, context };
}

/** Collects what a page complains about, for the result when something fails. */
function watch(page, name, problems) {
  page.on('console', (message) => {
    if (message.type() === 'error' && problems.length < 50) {
      problems.push(`${name} console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.length < 50 && problems.push(`${name} page error: ${error.message}`));
}

async function readHook(page) {
  return page.evaluate(() => {
    const hook = window.__dashboard;
    if (!hook) {
      return null;
    }
    const navigation = performance.getEntriesByType('navigation')[0];
    return {
      status: hook.status,
      stopReason: hook.stopReason,
      protocol: hook.protocol,
      navigationProtocol: navigation ? navigation.nextHopProtocol : null,
      lastEventId: hook.lastEventId,
      connections: hook.connections,
      instances: hook.instances,
      ids: [...hook.receivedIds],
      gaps: [...hook.gaps],
      types: hook.log.map((entry) => entry.type),
      marker: window.__e2eMarker ?? null,
    };
  });
}

async function waitFor(description, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last.done) {
      return last.value;
    }
    await sleep(250);
  }
  throw new CheckFailed(`Timed out after ${timeoutMs} ms waiting for ${description}${last?.why ? ` (${last.why})` : ''}.`);
}

async function signIn(page, opts) {
  let response;
  try {
    response = await page.goto(opts.baseUrl, { waitUntil: 'domcontentloaded', timeout: opts.timeoutMs });
  } catch (error) {
    throw new SetupError(`${opts.baseUrl} did not load: ${error.message}`);
  }
  if (!response || !response.ok()) {
    throw new SetupError(`${opts.baseUrl} answered ${response?.status() ?? 'nothing'}.`);
  }
  const state = await waitFor('the sign-in page or the dashboard', opts.timeoutMs, async () => {
    if (await page.locator('[data-testid="dashboard"]').count()) {
      return { done: true, value: 'dashboard' };
    }
    if (await page.locator('[data-testid="signin"]').count()) {
      return { done: true, value: 'signin' };
    }
    return { done: false };
  });
  if (state === 'signin') {
    const input = page.locator('#userName');
    if (!(await input.count())) {
      const text = await page.locator('[data-testid="signin"]').innerText();
      throw new SetupError(`The page offers no development sign-in: ${text.replace(/\s+/g, ' ').trim()}`);
    }
    await input.fill(opts.user);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="dashboard"]').waitFor({ timeout: opts.timeoutMs });
  }
}

async function waitLive(page, opts, minimumIds = 3, after = 0) {
  return waitFor(`the page to be live with ${minimumIds} new events`, opts.timeoutMs, async () => {
    const hook = await readHook(page);
    if (!hook) {
      return { done: false, why: 'no window.__dashboard yet (only pages from a Development host, with the development sign-in, have it)' };
    }
    const fresh = hook.ids.length - after;
    return hook.status === 'live' && fresh >= minimumIds
      ? { done: true, value: hook }
      : { done: false, why: `status ${hook.status}, ${fresh} new events` };
  });
}

async function cardValues(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-testid$="-value"]')].map((element) => [element.getAttribute('data-testid'), element.textContent]),
    ),
  );
}

async function screenshot(page, opts, result) {
  if (!opts.screenshot) {
    return;
  }
  mkdirSync(dirname(opts.screenshot), { recursive: true });
  await page.screenshot({ path: opts.screenshot, fullPage: true });
  result.screenshot = opts.screenshot;
  log(`screenshot: ${opts.screenshot}`);
}

/**
 * Every break in the ids must be a gap the service announced; otherwise contiguous and increasing.
 * A gap says: nothing after lastEventId is held before firstAvailableId (or, when nothing is held,
 * the next event is latestId + 1), so exactly that next id may follow the break.
 */
export function checkContinuity(ids, gaps) {
  const problems = [];
  const breaks = [];
  for (let i = 1; i < ids.length; i++) {
    const previous = ids[i - 1];
    const current = ids[i];
    if (current <= previous) {
      problems.push(`id ${current} after ${previous}: duplicate or out of order`);
    } else if (current !== previous + 1) {
      const gap = gaps.find((g) => g.lastEventId === previous && (g.firstAvailableId ?? g.latestId + 1) === current);
      breaks.push({ after: previous, next: current, announced: Boolean(gap) });
      if (!gap) {
        problems.push(`ids jump from ${previous} to ${current} with no gap event announcing it: events were lost`);
      }
    }
  }
  return { problems, breaks };
}

async function scenarioLive(context, opts, result, problems) {
  const page = await context.newPage();
  watch(page, 'page', problems);
  await signIn(page, opts);
  const first = await waitLive(page, opts);
  const before = await cardValues(page);
  log(`live over ${first.protocol}; ${first.ids.length} events so far`, before);

  // The numbers change: new events arrive and at least one card shows a different value.
  const changed = await waitFor('the cards to change', opts.timeoutMs, async () => {
    const hook = await readHook(page);
    const now = await cardValues(page);
    const differs = Object.keys(now).filter((key) => now[key] !== before[key]);
    return hook.ids.length >= first.ids.length + 3 && differs.length > 0
      ? { done: true, value: { hook, now, differs } }
      : { done: false, why: `${hook.ids.length - first.ids.length} new events, ${differs.length} cards changed` };
  });
  // Let the charts draw a few more points before the picture.
  await sleep(Math.min(8000, opts.timeoutMs / 4));
  const final = await readHook(page);
  const continuity = checkContinuity(final.ids, final.gaps);

  Object.assign(result, {
    protocol: final.protocol,
    navigationProtocol: final.navigationProtocol,
    instances: final.instances,
    eventsReceived: final.ids.length,
    cardsBefore: before,
    cardsAfter: changed.now,
    cardsChanged: changed.differs,
    continuity,
  });
  await screenshot(page, opts, result);
  if (continuity.problems.length) {
    throw new CheckFailed(continuity.problems.join('; '));
  }
}

async function scenarioTenTabs(context, opts, result, problems) {
  const first = await context.newPage();
  watch(first, 'tab 1', problems);
  await signIn(first, opts);
  const pages = [first];
  for (let i = 1; i < opts.tabs; i++) {
    const page = await context.newPage();
    watch(page, `tab ${i + 1}`, problems);
    await page.goto(opts.baseUrl, { waitUntil: 'domcontentloaded', timeout: opts.timeoutMs });
    pages.push(page);
  }
  log(`${pages.length} tabs open`);

  // All of them live at the same time: each receives new events after the last one opened.
  const baseline = await Promise.all(pages.map(async (page) => (await waitLive(page, opts, 1)).ids.length));
  const tabs = await Promise.all(
    pages.map(async (page, index) => {
      const hook = await waitLive(page, opts, 3, baseline[index]);
      return {
        tab: index + 1,
        status: hook.status,
        protocol: hook.protocol,
        navigationProtocol: hook.navigationProtocol,
        newEvents: hook.ids.length - baseline[index],
        continuity: checkContinuity(hook.ids, hook.gaps).problems,
      };
    }),
  );
  result.tabs = tabs;
  await screenshot(first, opts, result);

  const notH2 = tabs.filter((tab) => tab.navigationProtocol !== 'h2' || tab.protocol !== 'h2');
  if (notH2.length) {
    throw new CheckFailed(`tabs not on HTTP/2: ${notH2.map((t) => `${t.tab} (${t.navigationProtocol}/${t.protocol})`).join(', ')}`);
  }
  const broken = tabs.filter((tab) => tab.continuity.length);
  if (broken.length) {
    throw new CheckFailed(`tabs lost events: ${JSON.stringify(broken)}`);
  }
}

function waitForLine(timeoutMs) {
  return new Promise((resolvePromise, reject) => {
    const input = createInterface({ input: process.stdin });
    let settled = false;
    const settle = (action) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        action();
        input.close();
        // Nothing more is read: let the process exit even if the harness keeps its end open.
        process.stdin.destroy();
      }
    };
    const timer = setTimeout(
      () => settle(() => reject(new CheckFailed(`No line on stdin within ${timeoutMs} ms after READY_FOR_RESTART.`))),
      timeoutMs,
    );
    input.once('line', (line) => settle(() => resolvePromise(line)));
    input.once('close', () => settle(() => reject(new SetupError('stdin closed before the harness said the restart was done.'))));
  });
}

async function scenarioRecover(context, opts, result, problems) {
  const page = await context.newPage();
  watch(page, 'page', problems);
  await signIn(page, opts);
  const before = await waitLive(page, opts, 5);
  const marker = `m${Math.random().toString(36).slice(2)}`;
  await page.evaluate((value) => {
    window.__e2eMarker = value;
  }, marker);
  log(`live with ${before.ids.length} events (last ${before.lastEventId}); waiting for the harness to restart Metrics.Api`);

  process.stdout.write('READY_FOR_RESTART\n');
  const line = await waitForLine(opts.restartTimeoutMs);
  log(`harness: ${line.trim() || '(empty line)'}; watching the page recover`);

  // Back by itself: a later connection, live, with events newer than before the restart.
  const recovered = await waitFor('the page to recover by itself', opts.restartTimeoutMs, async () => {
    const hook = await readHook(page);
    const newer = hook.ids.filter((id) => id > Number(before.lastEventId)).length;
    return hook.status === 'live' && hook.connections > before.connections && newer >= 5
      ? { done: true, value: hook }
      : { done: false, why: `status ${hook.status}, connections ${hook.connections}, ${newer} newer events` };
  });
  const continuity = checkContinuity(recovered.ids, recovered.gaps);
  Object.assign(result, {
    protocol: recovered.protocol,
    reloaded: recovered.marker !== marker,
    connections: recovered.connections,
    eventsBefore: before.ids.length,
    eventsAfter: recovered.ids.length,
    lastIdBefore: before.lastEventId,
    gaps: recovered.gaps,
    breaks: continuity.breaks,
    // Informational: ids start at (process start ms × 1000) + 1, so a resume that got the new
    // process's events from its very first one continues at an id ending in 001.
    replayedFromFirstEvent: recovered.gaps.every((gap) => (gap.firstAvailableId ?? gap.latestId + 1) % 1000 === 1),
    eventTypes: [...new Set(recovered.types)],
  });
  await screenshot(page, opts, result);

  if (recovered.marker !== marker) {
    throw new CheckFailed('The page was reloaded; it must recover by itself.');
  }
  if (continuity.problems.length) {
    throw new CheckFailed(continuity.problems.join('; '));
  }
}

async function main() {
  const started = Date.now();
  const result = { scenario: null, ok: false, baseUrl: null };
  const problems = [];
  let browser;
  let exitCode = 0;
  try {
    const opts = options();
    Object.assign(result, { scenario: opts.scenario, baseUrl: opts.baseUrl });
    const launched = await launch(opts);
    browser = launched.browser;
    result.browserVersion = browser.version();
    const run = { live: scenarioLive, 'ten-tabs': scenarioTenTabs, recover: scenarioRecover }[opts.scenario];
    await run(launched.context, opts, result, problems);
    result.ok = true;
  } catch (error) {
    exitCode = error instanceof SetupError ? 2 : 1;
    // eslint-disable-next-line no-control-regex
    result.error = (error instanceof Error ? error.message : String(error)).replace(/\u001b\[[0-9;]*m/g, '');
    log(error instanceof SetupError ? result.error : error instanceof Error ? (error.stack ?? error.message) : error);
  } finally {
    await browser?.close().catch(() => undefined);
  }
  result.durationMs = Date.now() - started;
  if (problems.length) {
    result.pageProblems = problems;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = exitCode;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
