/*
 * app.js - the flashsize dashboard (docs/server.md, "Dashboard").
 *
 * Routes (location.hash):
 *   #/                          projects
 *   #/p/PROJECT                 boards of a project: gauges and flags of each
 *   #/p/PROJECT/b/BOARD         a board: its state (the newest build of the project's
 *                               default branch): verdict, gauges, flags with messages;
 *                               pull requests against their bases; history charts;
 *                               frozen modules; builds (deltas per branch)
 *   #/p/PROJECT/b/BOARD/symbol/NAME   a symbol's size along the default branch
 *   #/p/PROJECT/b/BOARD/frozen/NAME   a frozen module's size along the default branch
 *   #/build/ID                  one build: verdict, flash map, findings, sections, top symbols
 *   #/build/ID/symbols/TEXT     the same with the symbols whose name contains TEXT
 *   #/compare/A/B               two builds side by side (a PR against its base): tables
 *                               that sort and filter, the PR comment rendered
 * Every view has its URL (shareable) and a tab title that names it.
 *
 * Rules the code keeps:
 *   - every piece of data goes into the page as text (el() and textContent);
 *     symbol, module, board and branch names may contain HTML;
 *   - the numbers a test or a reader needs are also in data-* attributes
 *     (data-used, data-limit, data-budget, data-points, data-flag);
 *   - with `flashsize serve --private` the API answers 401: the page asks for
 *     a token once and keeps it in sessionStorage.
 */
'use strict';

(function () {
  const FLAGS = ['irom0-overflow', 'window-exhausted', 'boot-segments-overflow', 'romfs-overlap'];
  const main = document.getElementById('main');
  const crumbs = document.getElementById('crumbs');
  const charts = [];
  let pendingCharts = [];

  /* ---- DOM helpers: text only ------------------------------------------------ */

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function link(href, text, attrs) {
    return el('a', Object.assign({ href: href }, attrs || {}), text);
  }

  function enc(s) {
    return encodeURIComponent(s);
  }

  function bytes(n) {
    if (n === null || n === undefined) return '–';
    return Number(n).toLocaleString('en-US') + ' B';
  }

  function kib(n) {
    return (n / 1024).toFixed(1) + ' KiB';
  }

  function delta(n) {
    return (n > 0 ? '+' : '') + Number(n).toLocaleString('en-US');
  }

  function when(ts) {
    return new Date(ts * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }

  function state(cls, text) {
    return el('p', { class: 'state ' + cls }, text);
  }

  function show(...nodes) {
    while (charts.length) charts.pop().destroy();
    main.replaceChildren(...nodes.flat());
    /* Charts are drawn once their canvas is in the page (it has a size then). */
    const todo = pendingCharts;
    pendingCharts = [];
    for (const [canvas, config] of todo) charts.push(new window.Chart(canvas, config));
  }

  /* The tab's title names the page. */
  function title(...parts) {
    document.title = parts.concat(['flashsize']).join(' · ');
  }

  function setCrumbs(parts) {
    const items = [link('#/', 'projects')];
    for (const [href, text] of parts) items.push(el('span', { class: 'sep' }, '/'), href ? link(href, text) : el('span', {}, text));
    crumbs.replaceChildren(...items);
  }

  /* ---- the API ---------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem('flashsize-token');
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch('/api/v1/' + path, { headers: headers });
    let body = null;
    try {
      body = await r.json();
    } catch (e) {
      throw new ApiError(r.status, 'the server answered ' + r.status + ' without JSON');
    }
    if (!r.ok) throw new ApiError(r.status, body && body.error ? body.error : 'HTTP ' + r.status);
    return body;
  }

  function tokenForm() {
    const input = el('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'fst_…' });
    const form = el('form', { class: 'token-form' },
      el('label', { for: 'token' }, 'This server is private: enter a token (flashsize token create)'), input,
      el('button', { type: 'submit' }, 'Use token'));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      sessionStorage.setItem('flashsize-token', input.value.trim());
      route();
    });
    return form;
  }

  function failure(err) {
    if (err instanceof ApiError && err.status === 401) return show(tokenForm());
    show(state('error', 'Could not load: ' + err.message));
  }

  /* ---- tables that sort and filter ------------------------------------------------ */

  /* A table from columns [{title, num}] and rows [{attrs, cells: [{text|node,
   * sort}]}]: clicking a heading sorts by that column (numbers by value, again
   * for the other direction); the box above keeps the rows whose text
   * contains what is typed.  Rows are moved, never rebuilt as HTML. */
  function dataTable(cls, columns, rows, attrs) {
    const body = el('tbody', {}, rows.map((r) => {
      const tr = el('tr', r.attrs || {}, r.cells.map((c, i) => {
        const td = el('td', { class: columns[i].num ? 'num' : columns[i].cls || '' }, c.node || (c.text === undefined ? '' : String(c.text)));
        td.dataset.sort = c.sort === undefined ? (c.text === undefined ? '' : String(c.text)) : String(c.sort);
        return td;
      }));
      return tr;
    }));
    const heads = columns.map((c, i) => {
      const th = el('th', { class: c.num ? 'num sortable' : 'sortable', 'data-col': i, tabindex: 0, 'aria-sort': 'none' }, c.title);
      return th;
    });
    const table = el('table', Object.assign({ class: cls + ' data' }, attrs || {}), el('thead', {}, el('tr', {}, heads)), body);
    function sortBy(i) {
      const th = heads[i];
      const dir = th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending';
      for (const h of heads) h.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', dir);
      const sign = dir === 'ascending' ? 1 : -1;
      const trs = Array.from(body.children);
      trs.sort((x, y) => {
        const a = x.children[i].dataset.sort, b = y.children[i].dataset.sort;
        const cmp = columns[i].num ? Number(a || 0) - Number(b || 0) : a.localeCompare(b);
        return sign * cmp;
      });
      body.replaceChildren(...trs);
    }
    heads.forEach((th, i) => {
      th.addEventListener('click', () => sortBy(i));
      th.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') sortBy(i); });
    });
    const filter = el('input', { type: 'search', class: 'filter', placeholder: 'filter…', 'aria-label': 'filter the rows' });
    filter.addEventListener('input', () => {
      const q = filter.value.toLowerCase();
      for (const tr of body.children) tr.hidden = q !== '' && !tr.textContent.toLowerCase().includes(q);
    });
    return el('div', { class: 'table-box' }, rows.length > 5 ? filter : null, el('div', { class: 'scroll' }, table));
  }

  /* ---- Markdown (the PR comment), as DOM nodes ------------------------------------ */

  /* The subset the PR comment uses: headings, lists, tables, paragraphs,
   * **bold**, `code`, backslash escapes and <details><summary>.  Every piece
   * of text becomes a text node: no HTML from the comment is ever parsed. */
  function inline(text) {
    const out = [];
    const re = /(\*\*([^*]+)\*\*|`([^`]+)`)/g;
    let last = 0, m;
    const unescape = (t) => t.replace(/\\([\\`*_{}\[\]()#+\-.!|<>])/g, '$1');
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(unescape(text.slice(last, m.index)));
      out.push(m[2] !== undefined ? el('strong', {}, inline(m[2])) : el('code', {}, m[3]));
      last = re.lastIndex;
    }
    if (last < text.length) out.push(unescape(text.slice(last)));
    return out;
  }

  function markdown(src) {
    const root = el('div', { class: 'md' });
    const stack = [root];
    const cur = () => stack[stack.length - 1];
    const lines = String(src || '').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      let m;
      if (/^\s*<!--.*-->\s*$/.test(line) || line.trim() === '') continue;
      if ((m = /^<details><summary>(.*)<\/summary>\s*$/.exec(line))) {
        const d = el('details', {}, el('summary', {}, inline(m[1])));
        cur().appendChild(d);
        stack.push(d);
      } else if (/^<\/details>\s*$/.test(line)) {
        if (stack.length > 1) stack.pop();
      } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        cur().appendChild(el('h' + Math.min(6, m[1].length + 1), {}, inline(m[2])));
      } else if (/^\s*[-*]\s+/.test(line)) {
        const ul = el('ul', {});
        for (; i < lines.length && /^\s*[-*]\s+/.test(lines[i]); i++) ul.appendChild(el('li', {}, inline(lines[i].replace(/^\s*[-*]\s+/, ''))));
        i--;
        cur().appendChild(ul);
      } else if (/^\|/.test(line)) {
        const rows = [];
        for (; i < lines.length && /^\|/.test(lines[i]); i++) rows.push(lines[i]);
        i--;
        const cells = (r) => r.replace(/^\|/, '').replace(/\|\s*$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
        const head = cells(rows[0]);
        const aligns = rows.length > 1 && /^\|[\s:|-]+$/.test(rows[1]) ? cells(rows[1]).map((c) => (/:$/.test(c) ? 'num' : '')) : [];
        const bodyRows = rows.slice(aligns.length ? 2 : 1);
        cur().appendChild(el('div', { class: 'scroll' }, el('table', { class: 'md-table' },
          el('thead', {}, el('tr', {}, head.map((h, k) => el('th', { class: aligns[k] || '' }, inline(h))))),
          el('tbody', {}, bodyRows.map((r) => el('tr', {}, cells(r).map((c, k) => el('td', { class: aligns[k] || '' }, inline(c)))))))));
      } else {
        cur().appendChild(el('p', {}, inline(line)));
      }
    }
    return root;
  }

  /* ---- gauges and flags ------------------------------------------------------- */

  /* The gauges of one analysis: irom0, IRAM, DRAM, the 1 MiB window, ROMFS on an
   * ESP8266; otherwise every region with a length.  budget: {region: max};
   * mainName: the build's main region as the API names it (main_region), the
   * one a budget's "(main)" limit applies to. */
  function gaugeList(doc, budget, mainName) {
    const out = [];
    const regions = doc.regions || [];
    const limits = (budget && budget.limits) || {};
    function budgetOf(name) {
      if (limits[name] !== undefined) return limits[name];
      if (name === mainName && limits['(main)'] !== undefined) return limits['(main)'];
      return null;
    }
    const esp = doc.esp8266;
    const names = { irom0_0_seg: 'irom0 (flash code)', iram1_0_seg: 'IRAM', dram0_0_seg: 'DRAM' };
    /* The boot image (what the ROM loader copies to RAM at reset) and its
     * 0x8FFC limit: over it, the board will not boot. */
    const boot = esp && esp.boot_image;
    if (boot && boot.limit) out.push({ key: 'boot', label: 'boot image', used: boot.size, limit: boot.limit, budget: null });
    for (const r of regions) {
      if (!r.length) continue;
      if (esp && !names[r.name]) continue;
      out.push({ key: r.name, label: names[r.name] || r.name, used: r.used, limit: r.length, budget: budgetOf(r.name) });
    }
    if (esp && esp.window_end) {
      const used = Math.max(0, (esp.window_used_end || esp.window_start) - esp.window_start);
      out.push({ key: 'window', label: '1 MiB flash window', used: used, limit: esp.window_end - esp.window_start, budget: null });
    }
    const romfs = esp && esp.romfs;
    if (romfs && romfs.size) {
      const used = doc.romfs && doc.romfs.image_size !== undefined ? doc.romfs.image_size : romfs.used || 0;
      out.push({ key: 'romfs', label: 'ROMFS partition', used: used, limit: romfs.size, budget: null });
    }
    return out;
  }

  function gauge(g) {
    const pct = g.limit ? (100 * g.used) / g.limit : 0;
    const over = g.used > g.limit;
    const fill = el('div', { class: 'fill' + (over ? ' over' : pct >= 90 ? ' warn' : '') });
    fill.style.width = Math.min(100, pct).toFixed(2) + '%';
    const bar = el('div', { class: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': g.limit, 'aria-valuenow': g.used }, fill);
    if (g.budget !== null && g.budget !== undefined && g.limit) {
      const line = el('div', { class: 'budget-line', title: 'budget ' + bytes(g.budget) });
      line.style.left = Math.min(100, (100 * g.budget) / g.limit).toFixed(2) + '%';
      bar.appendChild(line);
    }
    return el('div', {
      class: 'gauge' + (over ? ' over' : ''), 'data-region': g.key, 'data-used': g.used, 'data-limit': g.limit,
      'data-budget': g.budget === null || g.budget === undefined ? '' : g.budget, 'data-percent': pct.toFixed(2),
    },
    el('div', { class: 'gauge-head' }, el('span', { class: 'gauge-name' }, g.label),
      el('span', { class: 'gauge-pct' }, pct.toFixed(1) + '%')),
    bar,
    el('div', { class: 'gauge-nums' }, bytes(g.used) + ' of ' + bytes(g.limit) +
      (over ? ' — ' + bytes(g.used - g.limit) + ' over' : ' — ' + bytes(g.limit - g.used) + ' free') +
      (g.budget !== null && g.budget !== undefined ? ' · budget ' + bytes(g.budget) : '')));
  }

  /* The flash map, to scale, from the analysis.  ESP8266: the boot image,
   * the gap before irom0, irom0 and the rest of its region, the ROMFS
   * partition, the filesystem and the SDK parameter sectors (when the
   * board's flash size is known), with the 1 MiB mapped window marked; each
   * segment is a block at its flash offset (overlaps show as blocks on two
   * lanes).  Other chips: each region with a length, its used part. */
  function flashSegments(doc, flashSize) {
    const esp = doc.esp8266;
    if (!esp || !esp.window_start) return null;
    const ws = esp.window_start;
    const segs = [];
    const boot = esp.boot_image;
    const irom = esp.irom0;
    const iromOff = irom ? irom.start - ws : null;
    if (boot) segs.push({ key: 'boot', label: 'boot image', start: 0, size: boot.size, lane: 0, over: boot.size > boot.limit });
    if (boot && irom && iromOff > boot.size) segs.push({ key: 'gap', label: 'gap', start: boot.size, size: iromOff - boot.size, lane: 1 });
    if (irom) segs.push({ key: 'irom0', label: 'irom0', start: iromOff, size: irom.size, lane: 0 });
    if (irom && irom.region_length) {
      const regionEnd = irom.region_start - ws + irom.region_length;
      const end = iromOff + irom.size;
      if (regionEnd > end) segs.push({ key: 'irom0-free', label: 'irom0 free', start: end, size: regionEnd - end, lane: 1 });
    }
    if (esp.romfs && esp.romfs.size) segs.push({ key: 'romfs', label: 'ROMFS partition', start: esp.romfs.start - ws, size: esp.romfs.size, lane: 1 });
    if (flashSize && esp.firmware_size) {
      /* ports/esp8266/modules/flashbdev.py: the filesystem starts at the
       * firmware's end (plus the ROMFS partition), one more sector below
       * 1 MiB; the last 20 KiB hold the SDK parameters. */
      let sec = Math.floor((esp.firmware_size + (esp.romfs && esp.romfs.size ? esp.romfs.size : 0)) / 4096);
      if (sec < 256) sec += 1;
      const fsStart = sec * 4096, sdk = flashSize - 20480;
      if (sdk > fsStart) segs.push({ key: 'filesystem', label: 'filesystem', start: fsStart, size: sdk - fsStart, lane: 1 });
      segs.push({ key: 'sdk', label: 'SDK parameters', start: sdk, size: 20480, lane: 1 });
    }
    return segs;
  }

  function hex(n) {
    return '0x' + Number(n).toString(16);
  }

  function flashMap(doc, flashSize) {
    const segs = flashSegments(doc, flashSize);
    if (!segs) return regionMap(doc);
    const esp = doc.esp8266;
    const win = esp.window_end - esp.window_start;
    const total = Math.max(flashSize || 0, win, ...segs.map((g) => g.start + g.size));
    const pct = (n) => ((100 * n) / total).toFixed(3) + '%';
    const lanes = [el('div', { class: 'lane' }), el('div', { class: 'lane' })];
    for (const g of segs) {
      const b = el('div', { class: 'seg seg-' + g.key + (g.over ? ' over' : ''), 'data-seg': g.key, 'data-start': g.start, 'data-size': g.size,
        title: g.label + ': ' + bytes(g.size) + ' at ' + hex(g.start) }, el('span', {}, g.label));
      b.style.left = pct(g.start);
      b.style.width = pct(g.size);
      lanes[g.lane].appendChild(b);
    }
    const winEl = el('div', { class: 'window-mark', 'data-seg': 'window', 'data-start': 0, 'data-size': win }, el('span', {}, '1 MiB mapped window'));
    winEl.style.width = pct(win);
    return el('section', { class: 'flash-map', 'data-total': total },
      el('div', { class: 'map-box' }, lanes, el('div', { class: 'lane window-lane' }, winEl)),
      el('div', { class: 'muted' }, flashSize ? 'flash ' + bytes(flashSize) + ' (the board\'s layout)' : 'flash size unknown: filesystem and SDK sectors not drawn'),
      dataTable('map-table', [{ title: 'segment' }, { title: 'flash offset', num: true }, { title: 'size', num: true }, { title: 'end', num: true }],
        segs.map((g) => ({ attrs: { 'data-seg': g.key, 'data-size': g.size }, cells: [{ text: g.label }, { text: hex(g.start), sort: g.start },
          { text: bytes(g.size), sort: g.size }, { text: hex(g.start + g.size), sort: g.start + g.size }] }))));
  }

  /* Other chips: every region with a length, drawn to one scale. */
  function regionMap(doc) {
    const regions = (doc.regions || []).filter((r) => r.length);
    if (!regions.length) return state('empty', 'No memory map: the limits of this build are unknown (no region has a length).');
    const max = Math.max(...regions.map((r) => r.length));
    return el('section', { class: 'flash-map regions' }, regions.map((r) => {
      const used = el('div', { class: 'seg used' + (r.used > r.length ? ' over' : ''), 'data-seg': r.name, 'data-size': r.used });
      used.style.width = Math.min(100, (100 * r.used) / r.length).toFixed(3) + '%';
      const bar = el('div', { class: 'region-bar', 'data-region': r.name, 'data-length': r.length }, used);
      bar.style.width = ((100 * r.length) / max).toFixed(3) + '%';
      return el('div', { class: 'region-row' }, el('div', { class: 'region-name' }, r.name + ' · ' + hex(r.origin || 0) + ' · ' +
        bytes(r.used) + ' of ' + bytes(r.length)), bar);
    }));
  }

  /* Words for a build's verdict: the worst thing its analysis says. */
  function verdictWords(doc) {
    const errs = (doc.findings || []).filter((f) => f.severity === 'error').map((f) => f.id);
    if (doc.esp8266 && doc.esp8266.boots === false) return ['fail', 'will not boot'];
    if (errs.includes('romfs-overlap')) return ['fail', 'writing a ROMFS image will overwrite its code'];
    if (errs.length) return ['fail', 'does not fit'];
    if (!(doc.regions || []).some((r) => r.length)) return ['unknown', 'limits unknown: no region has a length'];
    if ((doc.findings || []).some((f) => f.severity === 'warning')) return ['warn', 'fits, with warnings'];
    return ['ok', 'fits'];
  }

  function verdict(doc) {
    const [cls, words] = verdictWords(doc);
    return el('p', { class: 'verdict ' + cls, 'data-verdict': cls }, words);
  }

  /* Every error finding with its message, numbers and remedy. */
  function flagDetails(findings) {
    const errs = (findings || []).filter((f) => f.severity === 'error');
    if (!errs.length) return el('div', { class: 'flags ok', 'data-flags': '' }, el('span', { class: 'flag-ok' }, 'no errors'));
    return el('ul', { class: 'flags detailed', 'data-flags': errs.map((f) => f.id).join(' ') }, errs.map((f) =>
      el('li', { class: 'flag-item', 'data-flag': f.id },
        el('span', { class: 'flag' + (FLAGS.includes(f.id) ? ' major' : '') }, f.id), ' ', f.message || '',
        f.numbers && Object.keys(f.numbers).length ? el('div', { class: 'numbers' },
          Object.entries(f.numbers).map(([k, v]) => k + ' ' + (typeof v === 'number' ? Number(v).toLocaleString('en-US') : String(v))).join(' · ')) : null,
        f.remedy ? el('div', { class: 'remedy' }, f.remedy) : null)));
  }

  function flags(errorIds) {
    const ids = Array.from(new Set(errorIds || []));
    if (!ids.length) return el('div', { class: 'flags ok', 'data-flags': '' }, el('span', { class: 'flag-ok' }, 'no errors'));
    return el('div', { class: 'flags', 'data-flags': ids.join(' ') },
      ids.map((id) => el('span', { class: 'flag' + (FLAGS.includes(id) ? ' major' : ''), 'data-flag': id }, id)));
  }

  /* ---- pages -------------------------------------------------------------------- */

  async function pageProjects() {
    setCrumbs([]);
    title('projects');
    const data = await api('projects');
    if (!data.projects.length) {
      return show(el('h1', {}, 'Projects'), state('empty', 'No builds yet. Create a token with `flashsize token create --project NAME` and upload an analysis to POST /api/v1/builds.'));
    }
    if (data.projects.length === 1) {
      location.replace('#/p/' + enc(data.projects[0].name));
      return;
    }
    show(el('h1', {}, 'Projects'), el('ul', { class: 'cards' }, data.projects.map((p) => el('li', { class: 'card' },
      link('#/p/' + enc(p.name), p.name, { class: 'card-title' }),
      el('p', {}, p.builds + ' builds on ' + p.boards + ' boards' + (p.latest ? ', latest ' + when(p.latest) : ''))))));
  }

  async function pageProject(project) {
    setCrumbs([[null, project]]);
    title(project);
    const data = await api('projects/' + enc(project) + '/boards');
    if (!data.boards.length) return show(el('h1', {}, project), state('empty', 'No boards have builds yet.'));
    /* Boards with errors first, then by name (the API's order). */
    const boards = data.boards.slice().sort((x, y) => (y.latest.errors.length > 0) - (x.latest.errors.length > 0));
    const cards = boards.map((b) => {
      const doc = { regions: Object.entries(b.latest.regions).map(([name, r]) => ({ name: name, used: r.used, length: r.length })) };
      const gs = gaugeList(doc, null, null).filter((g) => g.key === b.latest.main_region);
      const known = doc.regions.some((r) => r.length);
      return el('li', { class: 'card board-card' + (b.latest.errors.length ? ' failing' : ''), 'data-board': b.name, 'data-build': b.latest.id },
        link('#/p/' + enc(project) + '/b/' + enc(b.name), b.name, { class: 'card-title' }),
        known ? flags(b.latest.errors) : el('p', { class: 'verdict unknown', 'data-verdict': 'unknown' }, 'limits unknown'),
        gs.map(gauge),
        el('p', { class: 'muted' }, b.builds + ' builds · ' + (b.latest.on_default_branch ? data.default_branch + ' at ' : 'no ' +
          data.default_branch + ' build yet; newest ') + b.latest.commit.slice(0, 12) +
          (b.latest.branch && !b.latest.on_default_branch ? ' on ' + b.latest.branch : '') + ' · ' + when(b.latest.timestamp)));
    });
    show(el('h1', {}, project), el('ul', { class: 'cards' }, cards));
  }

  function historyChart(region, points, limit, budget) {
    const canvas = el('canvas', { 'aria-label': 'history of ' + region, role: 'img' });
    const used = points.map((p) => (p.regions[region] ? p.regions[region].used : null));
    const wrap = el('div', {
      class: 'chart', 'data-region': region, 'data-points': used.join(','), 'data-limit': limit,
      'data-budget': budget === null || budget === undefined ? '' : budget,
    }, el('h3', {}, region), el('div', { class: 'chart-box' }, canvas));
    if (window.Chart) {
      const datasets = [
        { label: 'used', data: used, borderColor: '#2563eb', backgroundColor: '#2563eb', tension: 0.1, pointRadius: 3 },
        { label: 'limit', data: points.map(() => limit), borderColor: '#6b7280', borderDash: [6, 4], pointRadius: 0 },
      ];
      if (budget !== null && budget !== undefined) {
        datasets.push({ label: 'budget', data: points.map(() => budget), borderColor: '#dc2626', borderDash: [2, 3], pointRadius: 0 });
      }
      pendingCharts.push([canvas, {
        type: 'line',
        data: { labels: points.map((p) => p.commit.slice(0, 8)), datasets: datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: false, ticks: { callback: (v) => kib(v) } } },
          plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ': ' + bytes(c.parsed.y) } } },
        },
      }]);
    } else {
      wrap.appendChild(state('error', 'Chart.js did not load (vendor/chart.umd.js).'));
    }
    return wrap;
  }

  function frozenTable(doc, where) {
    const mods = doc.frozen && Array.isArray(doc.frozen.modules) ? doc.frozen.modules.slice() : [];
    if (!mods.length) return state('empty', 'This build has no frozen modules.');
    mods.sort((a, b) => b.bytes - a.bytes);
    const max = mods[0].bytes || 1;
    return el('table', { class: 'frozen' },
      el('thead', {}, el('tr', {}, el('th', {}, 'module'), el('th', { class: 'num' }, 'bytes'), el('th', {}, ''))),
      el('tbody', {}, mods.map((m) => {
        const fill = el('div', { class: 'fill' });
        fill.style.width = ((100 * m.bytes) / max).toFixed(1) + '%';
        return el('tr', { 'data-module': m.name, 'data-bytes': m.bytes },
          el('td', { class: 'name' }, where ? link(where + '/frozen/' + enc(m.name), m.name) : m.name), el('td', { class: 'num' }, bytes(m.bytes)),
          el('td', { class: 'barcell' }, el('div', { class: 'bar small' }, fill)));
      })));
  }

  /* The analysis's largest retained sizes (docs/refgraph.md): what each
   * symbol keeps in the image; text only, like every other table. */
  function retainedTable(doc) {
    const r = doc.retained;
    const syms = r && Array.isArray(r.symbols) ? r.symbols.slice(0, 20) : [];
    if (!syms.length) {
      return state('empty', r && typeof r.skipped === 'string' ? 'No retained sizes: ' + r.skipped + '.'
        : 'This build has no retained sizes.');
    }
    return el('div', { class: 'retained' },
      el('p', { class: 'muted' }, 'graph by ' + String(r.method) + ' · ' + Number(r.nodes) + ' nodes · ' +
        Number(r.unreferenced) + ' unreferenced roots'),
      el('div', { class: 'scroll' }, el('table', { class: 'retained' },
        el('thead', {}, el('tr', {}, el('th', {}, 'symbol'), el('th', { class: 'num' }, 'retained'),
          el('th', { class: 'num' }, 'size'), el('th', {}, 'section'), el('th', {}, 'dominator'))),
        el('tbody', {}, syms.map((s) => el('tr', { 'data-symbol': s.name, 'data-retained': s.retained },
          el('td', { class: 'name' }, String(s.name)), el('td', { class: 'num' }, bytes(s.retained)),
          el('td', { class: 'num' }, bytes(s.size)), el('td', {}, String(s.section || '')),
          el('td', { class: 'name' }, s.dominator === null || s.dominator === undefined ? '(root)' : String(s.dominator))))))));
  }

  /* The builds table: each row's delta against the previous build of its
   * own branch (the API's prev and delta); a pull request's build compares
   * with its base, any other with the build before it on its branch. */
  function buildsTable(project, board, builds) {
    const rows = builds.map((h) => {
      const other = h.base || h.prev;
      return el('tr', { 'data-build': h.id, 'data-branch': h.branch || '', 'data-delta': h.delta === null ? '' : h.delta },
        el('td', {}, link('#/build/' + h.id, h.commit.slice(0, 12))), el('td', {}, (h.branch || '') + (h.pr ? ' (#' + h.pr + ')' : '')),
        el('td', {}, when(h.timestamp)), el('td', { class: 'num' }, bytes(h.used)),
        el('td', { class: 'num' }, h.delta === null ? '' : delta(h.delta)),
        el('td', {}, flags(h.errors)),
        el('td', {}, other ? link('#/compare/' + other + '/' + h.id, h.base ? 'vs base' : 'compare') : ''));
    });
    return el('div', { class: 'scroll' }, el('table', { class: 'builds' },
      el('thead', {}, el('tr', {}, ['commit', 'branch', 'time', 'main region', 'delta (same branch)', 'errors', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows)));
  }

  /* Pull requests: the newest build of each, against its base. */
  function pullRequests(builds, dfl) {
    const byId = new Map(builds.map((h) => [h.id, h]));
    const seen = new Set();
    const heads = [];
    for (const h of builds) {
      if (h.branch === dfl) continue;
      const key = h.pr ? 'pr ' + h.pr : 'branch ' + h.branch;
      if (seen.has(key)) continue;
      seen.add(key);
      heads.push(h);
    }
    if (!heads.length) return state('empty', 'No pull requests or other branches.');
    return el('ul', { class: 'pulls' }, heads.map((h) => {
      const base = h.base ? byId.get(h.base) : null;
      const d = base && base.main_region === h.main_region ? h.used - base.used : null;
      return el('li', { class: 'pull' + (h.errors.length ? ' failing' : ''), 'data-build': h.id, 'data-base': h.base || '', 'data-delta': d === null ? '' : d },
        el('strong', {}, h.pr ? 'PR #' + h.pr : h.branch || '(no branch)'), ' ', (h.branch || '') + ' @ ',
        link('#/build/' + h.id, h.commit.slice(0, 12)), ' ', flags(h.errors),
        h.base ? el('span', {}, ' against ', link('#/build/' + h.base, base ? base.commit.slice(0, 12) : 'build ' + h.base),
          d === null ? '' : ': main region ' + delta(d) + ' B', ' · ', link('#/compare/' + h.base + '/' + h.id, 'diff'))
          : el('span', { class: 'muted' }, ' (no base build)'));
    }));
  }

  /* Two pickers of the board's builds and a button to the compare page:
   * base defaults to the newest build's base (or previous), head to it. */
  function comparePicker(builds, latest) {
    const label = (h) => h.commit.slice(0, 12) + ' · ' + (h.branch || '') + (h.pr ? ' #' + h.pr : '') + ' · ' + when(h.timestamp);
    const options = (sel) => builds.map((h) => el('option', { value: h.id, selected: h.id === sel ? 'selected' : null }, label(h)));
    const a = el('select', { id: 'cmp-a', 'aria-label': 'base build' }, options(latest.base || latest.prev || (builds[1] ? builds[1].id : latest.id)));
    const b = el('select', { id: 'cmp-b', 'aria-label': 'head build' }, options(latest.id));
    const go = el('button', { type: 'submit' }, 'Compare');
    const form = el('form', { class: 'compare-picker' }, el('label', { for: 'cmp-a' }, 'base '), a, el('label', { for: 'cmp-b' }, ' head '), b, ' ', go);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      location.hash = '#/compare/' + a.value + '/' + b.value;
    });
    return form;
  }

  async function pageBoard(project, board) {
    setCrumbs([['#/p/' + enc(project), project], [null, board]]);
    title(board, project);
    const hist = await api('projects/' + enc(project) + '/boards/' + enc(board) + '/history?limit=200');
    if (!hist.builds.length) return show(el('h1', {}, board), state('empty', 'No builds of this board yet.'));
    const dfl = hist.default_branch;
    /* The board's state is its newest default-branch build; a pull request
     * never changes it. */
    const trunk = hist.builds.filter((h) => h.branch === dfl);
    const latest = trunk.length ? trunk[0] : hist.builds[0];
    const b = await api('builds/' + latest.id + '?top=20');
    const doc = b.analysis;
    const points = hist.builds.filter((h) => h.branch === latest.branch).reverse();
    const limits = (hist.budget && hist.budget.limits) || {};
    const regionNames = Object.keys(latest.regions).filter((n) => latest.regions[n].length >= 256);
    const chartsEl = regionNames.map((n) => historyChart(n, points, latest.regions[n].length,
      limits[n] !== undefined ? limits[n] : n === latest.main_region ? limits['(main)'] : null));
    show(el('h1', {}, board),
      el('p', { class: 'muted state-of', 'data-build': latest.id }, (trunk.length ? 'state: ' + dfl + ' at ' : 'no ' + dfl + ' build yet; newest: '),
        link('#/build/' + latest.id, latest.commit.slice(0, 12)),
        (latest.branch && !trunk.length ? ' on ' + latest.branch : '') + ' · ' + when(latest.timestamp)),
      verdict(doc),
      flagDetails(doc.findings),
      el('section', { class: 'gauges' }, gaugeList(doc, b.budget, b.main_region).map(gauge)),
      el('h2', {}, 'Flash map'), flashMap(doc, b.flash_size),
      el('h2', {}, 'Pull requests'), pullRequests(hist.builds, dfl),
      el('h2', {}, 'Compare two builds'), comparePicker(hist.builds, latest),
      el('h2', {}, 'History (' + (latest.branch || 'no branch') + ')'), el('div', { class: 'charts' }, chartsEl),
      el('h2', {}, 'Frozen modules'), frozenTable(doc, '#/p/' + enc(project) + '/b/' + enc(board)),
      el('h2', {}, 'Builds'), buildsTable(project, board, hist.builds));
  }

  function findingsList(findings) {
    if (!findings || !findings.length) return state('empty', 'No findings.');
    return el('ul', { class: 'findings' }, findings.map((f) => el('li', { class: 'finding ' + f.severity, 'data-finding': f.id },
      el('span', { class: 'sev' }, f.severity), ' ', el('code', {}, f.id), ' ', f.message || '',
      f.remedy ? el('div', { class: 'remedy' }, f.remedy) : null)));
  }

  function symbolRows(list, where) {
    return list.map((sy) => ({ attrs: { 'data-symbol': sy.name, 'data-size': sy.size }, cells: [
      { node: where ? link(where + '/symbol/' + enc(sy.name), sy.name) : el('span', {}, sy.name), sort: sy.name },
      { text: bytes(sy.size), sort: sy.size }, { text: sy.type || '' }, { text: sy.section || '' }] }));
  }

  const SYMBOL_COLS = [{ title: 'symbol', cls: 'name' }, { title: 'size', num: true }, { title: 'type' }, { title: 'section' }];

  async function pageBuild(id, query) {
    const b = await api('builds/' + enc(id) + '?top=50');
    const info = b.build, doc = b.analysis;
    const where = '#/p/' + enc(info.project) + '/b/' + enc(info.board);
    setCrumbs([['#/p/' + enc(info.project), info.project], [where, info.board],
      [null, info.commit.slice(0, 12)]]);
    title('build ' + info.commit.slice(0, 12), info.board);
    const sections = (doc.sections || []).filter((s) => s.size > 0);
    /* symbol search: its text is in the URL (#/build/ID/symbols/TEXT) */
    const input = el('input', { type: 'search', id: 'sym-q', value: query || '', placeholder: 'symbol name contains…', 'aria-label': 'search symbols' });
    const form = el('form', { class: 'symbol-search' }, input, el('button', { type: 'submit' }, 'Search'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      location.hash = '#/build/' + info.id + (input.value ? '/symbols/' + enc(input.value) : '');
    });
    let results = null;
    if (query) {
      const r = await api('builds/' + enc(id) + '/symbols?limit=200&q=' + enc(query));
      results = el('div', { class: 'search-results', 'data-matches': r.matches },
        el('p', { class: 'muted' }, r.matches + ' symbols contain “' + query + '”' + (r.matches > r.symbols.length ? ', the ' + r.symbols.length + ' largest shown' : '')),
        dataTable('symbols found', SYMBOL_COLS, symbolRows(r.symbols, where)));
    }
    show(el('h1', {}, 'Build ' + info.id + ' · ' + info.commit),
      el('p', { class: 'muted' }, info.board + (info.branch ? ' · ' + info.branch : '') + (info.pr ? ' · PR #' + info.pr : '') +
        ' · ' + when(info.timestamp) + ' · verdict ' + (doc.summary ? doc.summary.verdict : '?')),
      verdict(doc),
      flagDetails(doc.findings),
      el('section', { class: 'gauges' }, gaugeList(doc, b.budget, b.main_region).map(gauge)),
      el('h2', {}, 'Flash map'), flashMap(doc, b.flash_size),
      el('h2', {}, 'Symbols'), form, results,
      el('h2', {}, 'Findings'), findingsList(doc.findings),
      el('h2', {}, 'Frozen modules'), frozenTable(doc, where),
      el('h2', {}, 'Largest retained sizes'), retainedTable(doc),
      el('h2', {}, 'Sections'),
      dataTable('sections', [{ title: 'section', cls: 'name' }, { title: 'address', num: true }, { title: 'size', num: true }, { title: 'region' }],
        sections.map((sc) => ({ attrs: { 'data-section': sc.name, 'data-size': sc.size }, cells: [{ text: sc.name },
          { text: '0x' + Number(sc.address).toString(16), sort: sc.address }, { text: bytes(sc.size), sort: sc.size }, { text: sc.region || '' }] }))),
      el('h2', {}, 'Top symbols'),
      dataTable('symbols top', SYMBOL_COLS, symbolRows(b.top_symbols, where)));
  }

  /* A symbol's or a frozen module's size along the board's default branch. */
  async function pageSizeHistory(project, board, kind, name) {
    const where = '#/p/' + enc(project) + '/b/' + enc(board);
    setCrumbs([['#/p/' + enc(project), project], [where, board], [null, kind + ' ' + name]]);
    title(kind + ' ' + name, board);
    const r = await api('projects/' + enc(project) + '/boards/' + enc(board) + '/' + kind + '-history?' +
      (kind === 'symbol' ? 'name=' : 'module=') + enc(name));
    const pts = r.builds.slice().reverse();
    const canvas = el('canvas', { role: 'img', 'aria-label': 'size of ' + name });
    if (window.Chart) {
      pendingCharts.push([canvas, { type: 'line', data: { labels: pts.map((p) => p.commit.slice(0, 8)),
        datasets: [{ label: 'size', data: pts.map((p) => p.size), borderColor: '#2563eb', backgroundColor: '#2563eb', spanGaps: false, pointRadius: 3 }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false } }]);
    }
    show(el('h1', {}, name),
      el('p', { class: 'muted' }, (kind === 'symbol' ? 'symbol' : 'frozen module') + ' on ' + board + ', branch ' + r.branch + ', newest first'),
      el('div', { class: 'chart', 'data-points': pts.map((p) => (p.size === null ? '' : p.size)).join(',') }, el('div', { class: 'chart-box' }, canvas)),
      dataTable('size-history', [{ title: 'commit' }, { title: 'time' }, { title: 'size', num: true }, { title: 'change', num: true }],
        r.builds.map((p, i) => {
          const older = r.builds[i + 1];
          const d = older && p.size !== null && older.size !== null ? p.size - older.size : null;
          return { attrs: { 'data-build': p.id, 'data-size': p.size === null ? '' : p.size }, cells: [
            { node: link('#/build/' + p.id, p.commit.slice(0, 12)), sort: p.timestamp }, { text: when(p.timestamp), sort: p.timestamp },
            { text: p.size === null ? 'absent' : bytes(p.size), sort: p.size === null ? -1 : p.size }, { text: d === null ? '' : delta(d), sort: d === null ? 0 : d }] };
        })));
  }

  /* rows: a list of {name, before, after, delta}, or the diff's symbols
   * object, whose list is its "changes". */
  function deltaTable(name, rows, lengths) {
    if (rows && !Array.isArray(rows)) rows = Array.isArray(rows.changes) ? rows.changes : [];
    if (!rows || !rows.length) return [el('h3', {}, name), state('empty', 'No changes.')];
    const cols = [{ title: 'name', cls: 'name' }, { title: 'before', num: true }, { title: 'after', num: true }, { title: 'delta', num: true }]
      .concat(lengths ? [{ title: 'limit', num: true }] : []);
    return [el('h3', {}, name), dataTable('delta', cols, rows.map((r) => ({
      attrs: { 'data-name': r.name, 'data-delta': r.delta, class: r.delta > 0 ? 'grew' : r.delta < 0 ? 'shrank' : '' },
      cells: [{ text: r.name }, { text: bytes(r.before), sort: r.before }, { text: bytes(r.after), sort: r.after },
        { text: delta(r.delta), sort: r.delta }].concat(lengths ? [{ text: bytes(r.length_after), sort: r.length_after }] : []) })),
      { 'data-table': name.toLowerCase() })];
  }

  async function pageCompare(a, b) {
    const d = await api('diff?a=' + enc(a) + '&b=' + enc(b));
    const one = d.diff && d.diff.boards ? d.diff.boards[0] : null;
    setCrumbs([['#/p/' + enc(d.b.project), d.b.project], ['#/p/' + enc(d.b.project) + '/b/' + enc(d.b.board), d.b.board],
      [null, 'compare']]);
    title('compare ' + d.a.commit.slice(0, 8) + '…' + d.b.commit.slice(0, 8), d.b.board);
    if (!one) return show(state('error', 'The server sent no diff.'));
    show(el('h1', {}, 'Compare'),
      el('div', { class: 'compare-head' },
        el('div', {}, el('strong', {}, 'base '), link('#/build/' + d.a.id, d.a.commit.slice(0, 12)), ' ' + (d.a.branch || '')),
        el('div', {}, el('strong', {}, 'head '), link('#/build/' + d.b.id, d.b.commit.slice(0, 12)), ' ' + (d.b.branch || ''))),
      deltaTable('Regions', one.regions, true),
      deltaTable('Sections', one.sections, false),
      deltaTable('Frozen modules', one.frozen, false),
      deltaTable('Symbols', one.symbols, false),
      el('h3', {}, 'PR comment'), markdown(d.markdown),
      el('details', {}, el('summary', {}, 'Markdown source'), el('pre', { class: 'markdown' }, d.markdown || '')));
  }

  /* ---- routing ---------------------------------------------------------------------- */

  async function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    main.replaceChildren(state('loading', 'Loading…'));
    document.body.setAttribute('data-page', 'loading');
    let page = 'projects';
    try {
      if (parts[0] === 'p' && parts.length >= 6 && parts[2] === 'b' && (parts[4] === 'symbol' || parts[4] === 'frozen')) {
        page = parts[4] + '-history';
        await pageSizeHistory(parts[1], parts[3], parts[4], parts.slice(5).join('/'));
      } else if (parts[0] === 'p' && parts.length >= 4 && parts[2] === 'b') {
        page = 'board';
        await pageBoard(parts[1], parts[3]);
      } else if (parts[0] === 'p' && parts.length >= 2) {
        page = 'project';
        await pageProject(parts[1]);
      } else if (parts[0] === 'build' && parts[1]) {
        page = parts[2] === 'symbols' ? 'search' : 'build';
        await pageBuild(parts[1], parts[2] === 'symbols' ? parts.slice(3).join('/') : '');
      } else if (parts[0] === 'compare' && parts.length >= 3) {
        page = 'compare';
        await pageCompare(parts[1], parts[2]);
      } else {
        await pageProjects();
      }
    } catch (err) {
      page = 'error';
      title('error');
      failure(err);
    }
    document.body.setAttribute('data-page', page);
    document.body.setAttribute('data-ready', location.hash || '#/');
  }

  window.addEventListener('hashchange', route);
  route();
})();
