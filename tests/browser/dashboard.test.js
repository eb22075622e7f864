/*
 * dashboard.test.js - the dashboard in headless Chromium against a running
 * `flashsize serve` with the database scripts/seed-demo.sh makes.
 *   node tests/browser/dashboard.test.js   (run by tests/e2e/test_browser.sh)
 * Environment: BASE_URL, CHROMIUM, SHOTS (screenshot directory), EXPECT (a
 * JSON file of ground truth the wrapper computed with the toolchain's size -A
 * and nm -S and the frozen generator's .sizes sidecar).  Prints TAP.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { Browser } = require('./cdp');

const base = process.env.BASE_URL;
const shots = process.env.SHOTS || 'build/screenshots';
const expect = JSON.parse(fs.readFileSync(process.env.EXPECT, 'utf8'));
let n = 0, failed = 0;

function ok(cond, name, detail) {
  n++;
  if (cond) console.log('ok ' + n + ' - ' + name);
  else {
    failed++;
    console.log('not ok ' + n + ' - ' + name);
    if (detail !== undefined) console.log('#   ' + String(detail).split('\n').join('\n#   '));
  }
}

function eq(got, want, name) {
  ok(JSON.stringify(got) === JSON.stringify(want), name, 'got ' + JSON.stringify(got) + ', wanted ' + JSON.stringify(want));
}

async function open(b, s, hash, page, ready) {
  await b.send('Page.navigate', { url: base + '/' + hash }, s);
  for (let i = 0; i < 200; i++) {
    const st = await b.eval(s, '[document.body && document.body.getAttribute("data-page"), document.body && document.body.getAttribute("data-ready")]');
    if (st && st[0] === page && st[1] === (ready || hash)) return true;
    if (st && st[0] === 'error') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const text = await b.eval(s, 'document.body ? document.body.innerText.slice(0, 300) : ""');
  ok(false, 'page ' + hash + ' rendered as ' + page, text);
  return false;
}

async function shot(b, s, name) {
  const page = await b.eval(s, '[document.documentElement.clientWidth, Math.max(window.innerHeight, document.documentElement.scrollHeight)]');
  const { data } = await b.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, s, 30000);
  const file = path.join(shots, name);
  const png = Buffer.from(data, 'base64');
  fs.writeFileSync(file, png);
  /* a PNG (signature, IHDR) as wide as the page's viewport (less the
   * scroll bar) and as tall as its content (deviceScaleFactor 1, cdp.js):
   * the page's own numbers */
  const dims = png.length > 24 && png.toString('latin1', 1, 4) === 'PNG' ? [png.readUInt32BE(16), png.readUInt32BE(20)] : null;
  eq(dims, page, 'screenshot ' + file + ': the page\'s width and height');
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'flashsize-chromium-'));
  const b = new Browser(process.env.CHROMIUM || '/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    '--user-data-dir=' + profile, 'about:blank']);
  const problems = [];
  b.on((msg) => {
    if (msg.method === 'Runtime.exceptionThrown') problems.push('exception: ' + JSON.stringify(msg.params.exceptionDetails).slice(0, 300));
    if (msg.method === 'Runtime.consoleAPICalled' && msg.params.type === 'error') problems.push('console.error: ' + JSON.stringify(msg.params.args).slice(0, 300));
    /* The 404 of the deliberately unknown build is expected; nothing else is. */
    if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error' &&
        !/\/api\/v1\/builds\/99999(\?|$)/.test(msg.params.entry.url || '')) problems.push('log: ' + msg.params.entry.text + ' ' + (msg.params.entry.url || ''));
  });
  try {
    const s = await b.newPage(1280, 900);
    /* An alert from injected HTML would set this flag instead of blocking. */
    await b.send('Page.addScriptToEvaluateOnNewDocument', { source: 'window.alert = function () { window.__xss = true; };' }, s);

    /* --- the project page: a card per board, the flagged ones flagged ----------- */
    if (await open(b, s, '#/p/micropython', 'project')) {
      const cards = await b.eval(s, `Array.from(document.querySelectorAll('.board-card')).map(c => [c.dataset.board,
        Array.from(c.querySelectorAll('[data-flag]')).map(f => f.dataset.flag)])`);
      const byBoard = Object.fromEntries(cards);
      eq(Object.keys(byBoard).sort(), ['cortex-m4', 'esp8266-1m', 'esp8266-2m', 'esp8266-2m-romfs', 'esp8266-frozen'], 'project page: one card per board');
      ok(byBoard['esp8266-2m'].includes('window-exhausted'), 'esp8266-2m card shows window-exhausted', byBoard['esp8266-2m']);
      ok(byBoard['esp8266-1m'].includes('irom0-overflow'), 'esp8266-1m card shows irom0-overflow', byBoard['esp8266-1m']);
      ok(byBoard['esp8266-2m-romfs'].includes('romfs-overlap'), 'esp8266-2m-romfs card shows romfs-overlap', byBoard['esp8266-2m-romfs']);
      eq(byBoard['esp8266-frozen'], [], 'esp8266-frozen card has no flag');
      const major = await b.eval(s, `getComputedStyle(document.querySelector('.board-card[data-board="esp8266-2m"] .flag.major')).backgroundColor`);
      eq(major, 'rgb(220, 38, 38)', 'a major flag is red');
      await shot(b, s, 'project.png');
    }
    /* Coming from the project page, the old page already looks "ready": wait
     * for the hash itself to change instead of trusting that state. */
    const redirected = await (async () => {
      await b.send('Page.navigate', { url: base + '/#/' }, s);
      let hash = '';
      for (let i = 0; i < 200 && hash !== '#/p/micropython'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        hash = await b.eval(s, 'location.hash');
      }
      return hash;
    })();
    eq(redirected, '#/p/micropython', 'a single project: #/ goes to it');

    /* --- the board page: gauges, budget line, history chart ------------------- */
    if (await open(b, s, '#/p/micropython/b/esp8266-2m', 'board')) {
      const g = await b.eval(s, `Object.fromEntries(Array.from(document.querySelectorAll('.gauges .gauge')).map(e =>
        [e.dataset.region, {used: +e.dataset.used, limit: +e.dataset.limit, budget: e.dataset.budget === '' ? null : +e.dataset.budget}]))`);
      eq(Object.keys(g), ['dram0_0_seg', 'iram1_0_seg', 'irom0_0_seg', 'window'], 'board page: gauges irom0, IRAM, DRAM, window');
      eq(g.irom0_0_seg.used, expect.irom0.window, 'irom0 gauge used = size -A .irom0.text of the latest build');
      eq(g.irom0_0_seg.budget, expect.budget_main, 'irom0 gauge budget line = rules/budgets/esp8266-2m.ini max (1M - 36K - 32K)');
      eq(g.iram1_0_seg.budget, 32768, 'IRAM gauge budget = 32K');
      eq(g.window.used, expect.window_used, 'window gauge used = .irom0.text end - 0x40200000 (size -A -x)');
      eq(g.window.limit, 1048576, 'window gauge limit = 1 MiB');
      ok(await b.eval(s, `!!document.querySelector('.gauge[data-region="window"].over .fill.over')`), 'window gauge drawn over the limit');
      const flags = await b.eval(s, `Array.from(document.querySelectorAll('main > .flags [data-flag]')).map(f => f.dataset.flag)`);
      ok(flags.includes('window-exhausted'), 'board page flags window-exhausted', flags);
      const chart = await b.eval(s, `(() => { const w = document.querySelector('.chart[data-region="irom0_0_seg"]');
        const c = Chart.getChart(w.querySelector('canvas'));
        return {points: w.dataset.points, budget: +w.dataset.budget, limit: +w.dataset.limit,
                drawn: c ? c.data.datasets.map(d => d.label + ':' + d.data.join(',')) : null,
                width: w.querySelector('canvas').width, shown: Math.round(w.querySelector('canvas').getBoundingClientRect().width),
                box: w.clientWidth - parseFloat(getComputedStyle(w).paddingLeft) - parseFloat(getComputedStyle(w).paddingRight)}; })()`);
      eq(chart.points, [expect.irom0.fits, expect.irom0.nearfull, expect.irom0.window].join(','), 'irom0 history chart: main builds oldest first = size -A');
      eq(chart.budget, expect.budget_main, 'irom0 history chart: budget line');
      ok(chart.drawn && chart.drawn[0] === 'used:' + chart.points && chart.drawn.some((d) => d.startsWith('budget:' + expect.budget_main)),
        'Chart.js draws used, limit and budget', chart.drawn);
      /* Chart.js sizes the canvas to its box (device pixel ratio 1; it
       * rounds the box's fractional width down) */
      ok(chart.box > 0 && chart.width === chart.shown && Math.abs(chart.shown - chart.box) <= 1,
        'chart canvas as wide as its box', [chart.width, chart.shown, chart.box]);
      const empty = await b.eval(s, `document.querySelector('h2 + .state.empty') && document.querySelector('h2 + .state.empty').textContent`);
      eq(empty, 'This build has no frozen modules.', 'frozen breakdown: empty state');
      await shot(b, s, 'board.png');
    }

    /* --- frozen modules ---------------------------------------------------------- */
    if (await open(b, s, '#/p/micropython/b/esp8266-frozen', 'board')) {
      const rows = await b.eval(s, `Object.fromEntries(Array.from(document.querySelectorAll('table.frozen tr[data-module]')).map(r => [r.dataset.module, +r.dataset.bytes]))`);
      const sorted = (o) => Object.fromEntries(Object.entries(o).sort());
      eq(sorted(rows), sorted(expect.frozen), 'frozen breakdown = the generator\'s .sizes sidecar');
      await shot(b, s, 'frozen.png');
    }

    /* --- a build with an HTML-named symbol ---------------------------------------- */
    if (await open(b, s, '#/build/' + expect.xss_build, 'build')) {
      const row = await b.eval(s, `(() => { const r = document.querySelector('table.symbols tbody tr');
        return {name: r.querySelector('td').textContent, size: +r.dataset.size}; })()`);
      eq(row.name, '<img src=x onerror=alert(1)>', 'HTML in a symbol name is shown as text');
      eq(row.size, expect.xss_size, 'its size = nm -S');
      eq(await b.eval(s, 'document.querySelectorAll("main img").length'), 0, 'no <img> element was created');
      eq(await b.eval(s, 'window.__xss === true'), false, 'no alert ran');
      const sections = await b.eval(s, `Object.fromEntries(Array.from(document.querySelectorAll('table.sections tr[data-section]')).map(r => [r.dataset.section, +r.dataset.size]))`);
      eq(sections['.irom0.text'], expect.irom0.fits, 'build page: .irom0.text = size -A');
      await shot(b, s, 'build.png');
    }

    /* --- the build page's retained sizes = flashsize top --retained of the same ELF --- */
    if (await open(b, s, '#/build/1', 'build')) {
      const first = await b.eval(s, `(() => { const r = document.querySelector('table.retained tbody tr');
        return r ? {name: r.dataset.symbol, retained: +r.dataset.retained, shown: r.children[1].textContent} : null; })()`);
      eq(first && {name: first.name, retained: first.retained}, expect.retained_fits,
        'build page: largest retained size = flashsize top --retained');
      eq(first && first.shown, Number(expect.retained_fits.retained).toLocaleString('en-US') + ' B', 'retained size shown in bytes');
    }
    if (await open(b, s, '#/build/' + expect.xss_build, 'build')) {
      const names = await b.eval(s, `Array.from(document.querySelectorAll('table.retained tbody td.name')).map(td => td.textContent)`);
      ok(names.includes('<img src=x onerror=alert(1)>'), 'retained table: HTML in a symbol name is shown as text', JSON.stringify(names.slice(0, 6)));
      eq(await b.eval(s, 'document.querySelectorAll("main img").length'), 0, 'retained table: no <img> element was created');
    }

    /* --- compare ------------------------------------------------------------------- */
    if (await open(b, s, '#/compare/1/2', 'compare')) {
      const d = await b.eval(s, `+document.querySelector('table.delta tr[data-name="irom0_0_seg"]').dataset.delta`);
      eq(d, expect.irom0.nearfull - expect.irom0.fits, 'compare: irom0 delta = size -A difference');
      ok(await b.eval(s, 'document.querySelector("pre.markdown").textContent.startsWith("<!-- flashsize-report -->")'), 'compare: PR Markdown shown as text');
      await shot(b, s, 'compare.png');
    }

    /* --- errors and empty states ---------------------------------------------------- */
    if (await open(b, s, '#/build/99999', 'error')) ok(true, 'unknown build: error state');
    eq(await b.eval(s, 'document.querySelector(".state.error").textContent'), 'Could not load: no build 99999', 'error state says why');

    /* --- a phone ------------------------------------------------------------------- */
    const p = await b.newPage(375, 740);
    if (await open(b, p, '#/p/micropython/b/esp8266-2m', 'board')) {
      const w = await b.eval(p, 'document.documentElement.scrollWidth');
      ok(w <= 375, 'phone (375 px): no horizontal scrolling', w);
      await shot(b, p, 'phone-board.png');
    }
    ok(problems.length === 0, 'no script errors or CSP violations', problems.join('\n'));
  } catch (e) {
    ok(false, 'browser session', e.stack);
  } finally {
    await b.close();
    /* Chromium's helper processes may still be writing the profile for a
     * moment after the browser is killed: retry, and never fail the test
     * over the clean-up of a temporary directory. */
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    } catch (e) {
      console.log('# left the temporary profile ' + profile + ': ' + e.message);
    }
  }
  console.log('1..' + n);
  process.exit(failed ? 1 : 0);
}

main();
