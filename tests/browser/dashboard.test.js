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
      eq(Object.keys(byBoard).sort(), ['cortex-m4', 'cortex-m4-ld', 'esp8266-1m', 'esp8266-2m', 'esp8266-2m-romfs', 'esp8266-frozen'], 'project page: one card per board');
      ok(byBoard['esp8266-2m'].includes('window-exhausted'), 'esp8266-2m card shows window-exhausted', byBoard['esp8266-2m']);
      ok(byBoard['esp8266-1m'].includes('irom0-overflow'), 'esp8266-1m card shows irom0-overflow', byBoard['esp8266-1m']);
      ok(byBoard['esp8266-2m-romfs'].includes('romfs-overlap'), 'esp8266-2m-romfs card shows romfs-overlap', byBoard['esp8266-2m-romfs']);
      eq(byBoard['esp8266-frozen'], [], 'esp8266-frozen card has no flag');
      /* The failing PR 43 (boot-segments-overflow) is the newest build of
       * esp8266-2m: the card still shows main's state. */
      const api = await b.eval(s, `fetch('/api/v1/projects/micropython/boards').then(r => r.json())`);
      const a2m = api.boards.find((x) => x.name === 'esp8266-2m');
      eq([a2m.latest.id, a2m.latest.branch, a2m.latest.on_default_branch], [expect.boot.main, 'main', true],
        'API: the board\'s state is main\'s newest build, not the newer failing PR');
      eq(byBoard['esp8266-2m'], a2m.latest.errors, 'esp8266-2m card flags = the API\'s (main\'s) errors');
      ok(!byBoard['esp8266-2m'].includes('boot-segments-overflow'), 'esp8266-2m card: the failing PR does not turn it', byBoard['esp8266-2m']);
      eq(await b.eval(s, `document.querySelector('.board-card[data-board="esp8266-2m"]').dataset.build`), String(expect.boot.main), 'esp8266-2m card is main\'s build');
      const order = await b.eval(s, `Array.from(document.querySelectorAll('.board-card')).map(c => c.classList.contains('failing'))`);
      eq(order, order.slice().sort((x, y) => y - x), 'boards with errors come first');
      eq(await b.eval(s, 'document.title'), 'micropython · flashsize', 'project page title');
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
      eq(Object.keys(g).sort(), ['boot', 'dram0_0_seg', 'iram1_0_seg', 'irom0_0_seg', 'window'], 'board page: gauges boot image, irom0, IRAM, DRAM, window');
      eq(await b.eval(s, `document.querySelector('.state-of').dataset.build`), String(expect.boot.main), 'board page: state is main\'s newest build');
      const hist = await b.eval(s, `fetch('/api/v1/projects/micropython/boards/esp8266-2m/history?limit=200').then(r => r.json())`);
      eq(hist.default_branch, 'main', 'history API: default branch');
      const rowsShown = await b.eval(s, `Array.from(document.querySelectorAll('table.builds tbody tr')).map(r => [+r.dataset.build, r.dataset.delta === '' ? null : +r.dataset.delta])`);
      eq(rowsShown, hist.builds.map((h) => [h.id, h.delta]), 'builds table: deltas = the API\'s');
      const byCommit = Object.fromEntries(hist.builds.map((h) => [h.commit, h]));
      eq(byCommit['3333333cccc'].delta, expect.irom0.window - expect.irom0.nearfull, 'delta of main\'s 3333333 is against main\'s 2222222 (size -A), not a PR build');
      eq([byCommit['9999999cccc'].delta, byCommit['abcdef01234'].delta], [null, null], 'a PR\'s first build has no same-branch delta');
      const pull = await b.eval(s, `(() => { const p = document.querySelector('.pull[data-build="${expect.boot.build}"]');
        return p ? {base: +p.dataset.base, delta: +p.dataset.delta} : null; })()`);
      eq(pull, {base: expect.boot.main, delta: expect.boot.irom0 - expect.irom0.window}, 'PR 43 shown against its parent\'s build, with the irom0 delta (size -A)');
      eq(g.boot.used < g.boot.limit, true, 'board page: main\'s boot image fits (the PR\'s does not)');
      const bflags = await b.eval(s, `Array.from(document.querySelectorAll('main > .flags [data-flag]')).map(f => f.dataset.flag)`);
      ok(!bflags.includes('boot-segments-overflow'), 'board page: the failing PR\'s flag is not the board\'s', bflags);
      ok(await b.eval(s, `!!document.querySelector('main > .flags .flag-item[data-flag="window-exhausted"] .remedy')`), 'board page: a flag shows its remedy');
      eq(await b.eval(s, 'document.title'), 'esp8266-2m · micropython · flashsize', 'board page title');
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

    /* --- the failing PR's build: the boot image over its limit -------------------- */
    if (await open(b, s, '#/build/' + expect.boot.build, 'build')) {
      const bg = await b.eval(s, `(() => { const e = document.querySelector('.gauge[data-region="boot"]');
        return e ? {used: +e.dataset.used, limit: +e.dataset.limit, pct: +e.dataset.percent, over: e.classList.contains('over')} : null; })()`);
      eq(bg && [bg.used, bg.limit], [expect.boot.size, expect.boot.limit], 'boot-image gauge = header + segments of size -A, limit 0x8FFC');
      ok(bg && bg.pct > 100 && bg.over, 'boot-image gauge is over 100%', JSON.stringify(bg));
      eq(await b.eval(s, `document.querySelector('main .verdict').textContent`), 'will not boot', 'verdict in words: will not boot');
      const msg = await b.eval(s, `document.querySelector('.flag-item[data-flag="boot-segments-overflow"]').textContent`);
      ok(msg.includes(String(expect.boot.size)), 'the flag shows its message with the numbers', msg);
      await shot(b, s, 'boot-overflow.png');
    }

    /* --- compare ------------------------------------------------------------------- */
    if (await open(b, s, '#/compare/1/2', 'compare')) {
      const apiDiff = await b.eval(s, `fetch('/api/v1/diff?a=1&b=2').then(r => r.json())`);
      const want = apiDiff.diff.boards[0].symbols.changes.map((c) => [c.name, c.delta]);
      const got = await b.eval(s, `Array.from(document.querySelectorAll('table.delta[data-table="symbols"] tbody tr')).map(r => [r.dataset.name, +r.dataset.delta])`);
      ok(want.length > 0, 'compare: the API lists changed symbols', want.length);
      eq(got, want, 'compare: the Symbols table lists the API\'s changed symbols with their deltas');
      const d = await b.eval(s, `+document.querySelector('table.delta tr[data-name="irom0_0_seg"]').dataset.delta`);
      eq(d, expect.irom0.nearfull - expect.irom0.fits, 'compare: irom0 delta = size -A difference');
      ok(await b.eval(s, 'document.querySelector("pre.markdown").textContent.startsWith("<!-- flashsize-report -->")'), 'compare: PR Markdown shown as text');
      await shot(b, s, 'compare.png');
    }

    /* --- the flash map, to scale: its segments = the analysis's numbers ------------- */
    if (await open(b, s, '#/p/micropython/b/esp8266-2m-romfs', 'board')) {
      const m = await b.eval(s, `(() => { const o = {}; for (const e of document.querySelectorAll('.flash-map .map-box [data-seg]'))
        o[e.dataset.seg] = {start: +e.dataset.start, size: +e.dataset.size, left: parseFloat(e.style.left || '0'), width: parseFloat(e.style.width)};
        return {segs: o, total: +document.querySelector('.flash-map').dataset.total}; })()`);
      const an = (await b.eval(s, `fetch('/api/v1/builds/${expect.romfs_map.build}').then(r => r.json())`)).analysis;
      const rm = expect.romfs_map;
      eq([m.segs.irom0.start, m.segs.irom0.size], [rm.irom0_start, rm.irom0], 'flash map: irom0 at its flash offset, size -A size');
      eq([m.segs.romfs.start, m.segs.romfs.size], [rm.romfs_start, rm.romfs_size], 'flash map: ROMFS partition = _micropy_hw_romfs_part0_start/_size (nm)');
      eq([m.segs.irom0.size, m.segs.romfs.size, m.segs.boot.size], [an.esp8266.irom0.size, an.esp8266.romfs.size, an.esp8266.boot_image.size],
        'flash map: segment sizes = the analysis\'s numbers');
      ok(m.segs.irom0.start + m.segs.irom0.size > m.segs.romfs.start, 'flash map: irom0 drawn running into the ROMFS partition (romfs-overlap)');
      eq(m.segs.window.size, 1048576, 'flash map: the 1 MiB window marked');
      eq(m.total, 2097152, 'flash map: the whole 2 MiB flash (the board\'s layout)');
      eq([m.segs.sdk.start, m.segs.sdk.size], [2097152 - 20480, 20480], 'flash map: SDK parameter sectors, the last 20 KiB');
      /* flashbdev.py: firmware end + the ROMFS partition, in sectors */
      let sec = Math.floor((rm.firmware_size + rm.romfs_size) / 4096);
      if (sec < 256) sec += 1;
      eq([m.segs.filesystem.start, m.segs.filesystem.size], [sec * 4096, 2097152 - 20480 - sec * 4096], 'flash map: the filesystem from _firmware_size (nm)');
      ok(Math.abs(m.segs.romfs.width - (100 * rm.romfs_size) / m.total) < 0.01, 'flash map: drawn to scale', JSON.stringify(m.segs.romfs));
      const rg = await b.eval(s, `(() => { const e = document.querySelector('.gauge[data-region="romfs"]'); return e ? [+e.dataset.limit] : null; })()`);
      eq(rg, [rm.romfs_size], 'ROMFS partition gauge beside irom0');
      await shot(b, s, 'romfs-map.png');
    }
    /* other chips: their regions, each with its used part, to one scale */
    if (await open(b, s, '#/p/micropython/b/cortex-m4-ld', 'board')) {
      const hist = await b.eval(s, `fetch('/api/v1/projects/micropython/boards/cortex-m4-ld/history').then(r => r.json())`);
      const regs = Object.entries(hist.builds[0].regions).filter(([, r]) => r.length).map(([n, r]) => [n, r.length, r.used]);
      const drawn = await b.eval(s, `Array.from(document.querySelectorAll('.flash-map.regions .region-bar')).map(e =>
        [e.dataset.region, +e.dataset.length, +e.querySelector('[data-seg]').dataset.size])`);
      ok(regs.length > 0, 'cortex-m4: regions with lengths', JSON.stringify(regs));
      eq(drawn, regs, 'region map: every region with its length and used bytes (API)');
    }
    if (await open(b, s, '#/p/micropython/b/cortex-m4', 'board')) {
      eq(await b.eval(s, `document.querySelector('main .verdict').textContent`), 'limits unknown: no region has a length', 'a board without limits says so');
      ok(await b.eval(s, `!document.querySelector('.flash-map') && !!Array.from(document.querySelectorAll('.state.empty')).find(e => e.textContent.includes('limits of this build are unknown'))`),
        'no memory map drawn, and why');
    }
    /* a board whose limits are unknown says so */
    if (await open(b, s, '#/p/micropython', 'project')) {
      const boards = (await b.eval(s, `fetch('/api/v1/projects/micropython/boards').then(r => r.json())`)).boards;
      const unknown = boards.filter((x) => !Object.values(x.latest.regions).some((r) => r.length)).map((x) => x.name);
      const said = await b.eval(s, `Array.from(document.querySelectorAll('.board-card')).filter(c => c.querySelector('[data-verdict="unknown"]')).map(c => c.dataset.board)`);
      eq(said.sort(), unknown.sort(), 'cards that say "limits unknown" = boards whose regions have no length (API)');
    }

    /* --- compare any two builds: the picker, sorting, filtering, the PR comment ---- */
    if (await open(b, s, '#/p/micropython/b/esp8266-2m', 'board')) {
      await b.eval(s, `(() => { document.getElementById('cmp-a').value = '1'; document.getElementById('cmp-b').value = '${expect.xss_build}';
        document.querySelector('.compare-picker button').click(); return true; })()`);
      let hash = '';
      for (let i = 0; i < 100 && hash !== '#/compare/1/' + expect.xss_build; i++) {
        await new Promise((r) => setTimeout(r, 50));
        hash = await b.eval(s, 'location.hash');
      }
      eq(hash, '#/compare/1/' + expect.xss_build, 'compare picker: any two builds');
    }
    if (await open(b, s, '#/compare/1/' + expect.xss_build, 'compare')) {
      const names = await b.eval(s, `Array.from(document.querySelectorAll('.md td, .md li, .md summary')).map(e => e.textContent).join('\\n')`);
      ok(names.includes('<img src=x onerror=alert(1)>'), 'PR comment rendered: the HTML-named symbol as text', names.slice(0, 300));
      eq(await b.eval(s, 'document.querySelectorAll("main img").length'), 0, 'PR comment rendered: no <img> element');
      eq(await b.eval(s, 'window.__xss === true'), false, 'PR comment rendered: no script ran');
      ok(await b.eval(s, '!!document.querySelector(".md table td") && document.querySelector(".md h4").textContent === "Firmware size report"'), 'PR comment rendered: heading and table');
      eq(await b.eval(s, 'document.title'), 'compare 1111111a…9999999c · esp8266-2m · flashsize', 'compare page title');
    }
    if (await open(b, s, '#/compare/1/2', 'compare')) {
      const sorted = await b.eval(s, `(() => { const t = document.querySelector('table.delta[data-table="symbols"]');
        t.querySelectorAll('th')[3].click(); t.querySelectorAll('th')[3].click();
        return Array.from(t.querySelectorAll('tbody tr')).map(r => +r.dataset.delta); })()`);
      eq(sorted, sorted.slice().sort((x, y) => x - y), 'symbols table sorts by delta (ascending on the second click)');
      const filtered = await b.eval(s, `(() => { const box = document.querySelector('table.delta[data-table="symbols"]').closest('.table-box');
        const f = box.querySelector('input.filter'); f.value = 'ntptime'; f.dispatchEvent(new Event('input'));
        return Array.from(box.querySelectorAll('tbody tr')).filter(r => !r.hidden).map(r => r.dataset.name); })()`);
      const apiDiff = await b.eval(s, `fetch('/api/v1/diff?a=1&b=2').then(r => r.json())`);
      eq(filtered.sort(), apiDiff.diff.boards[0].symbols.changes.map((c) => c.name).filter((n) => n.includes('ntptime')).sort(), 'symbols table filters by name');
    }

    /* --- drill-down: symbol search, a symbol's history, a frozen module's history -- */
    if (await open(b, s, '#/build/1/symbols/frozen', 'search')) {
      const got = await b.eval(s, `Array.from(document.querySelectorAll('.search-results tbody tr')).map(r => [r.dataset.symbol, +r.dataset.size])`);
      const r = await b.eval(s, `fetch('/api/v1/builds/1/symbols?limit=200&q=frozen').then(r => r.json())`);
      ok(r.symbols.length > 0, 'symbol search: the API finds symbols', r.matches);
      eq(got, r.symbols.map((x) => [x.name, x.size]), 'symbol search page = the API answer');
      eq(await b.eval(s, 'document.getElementById("sym-q").value'), 'frozen', 'symbol search: the text is in the URL and the box');
    }
    const sym = await b.eval(s, `fetch('/api/v1/builds/3?top=1').then(r => r.json()).then(j => j.top_symbols[0].name)`);
    if (await open(b, s, '#/p/micropython/b/esp8266-2m/symbol/' + encodeURIComponent(sym), 'symbol-history', '#/p/micropython/b/esp8266-2m/symbol/' + encodeURIComponent(sym))) {
      const got = await b.eval(s, `Array.from(document.querySelectorAll('table.size-history tbody tr')).map(r => [+r.dataset.build, r.dataset.size === '' ? null : +r.dataset.size])`);
      const r = await b.eval(s, `fetch('/api/v1/projects/micropython/boards/esp8266-2m/symbol-history?name=' + encodeURIComponent(${JSON.stringify(sym)})).then(r => r.json())`);
      eq(got, r.builds.map((x) => [x.id, x.size]), 'symbol history page = the API answer');
      eq(r.builds.map((x) => x.commit), ['3333333cccc', '2222222bbbb', '1111111aaaa'], 'symbol history: main\'s builds');
    }
    const mod = Object.keys(expect.frozen)[0];
    if (await open(b, s, '#/p/micropython/b/esp8266-frozen/frozen/' + encodeURIComponent(mod), 'frozen-history', '#/p/micropython/b/esp8266-frozen/frozen/' + encodeURIComponent(mod))) {
      const got = await b.eval(s, `Array.from(document.querySelectorAll('table.size-history tbody tr')).map(r => +r.dataset.size)`);
      eq(got, [expect.frozen[mod]], 'frozen module history = the generator\'s .sizes sidecar');
      eq(await b.eval(s, 'document.title'), 'frozen ' + mod + ' · esp8266-frozen · flashsize', 'module history title');
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
