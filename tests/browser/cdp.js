/*
 * cdp.js - a minimal Chrome DevTools Protocol client over
 * --remote-debugging-pipe, with node's built-ins only (no npm packages).
 *
 * Chromium reads commands from file descriptor 3 and writes replies and
 * events to file descriptor 4, each message one JSON text ended by a NUL
 * byte.  Commands for a page carry the sessionId that
 * Target.attachToTarget({flatten: true}) returned.
 */
'use strict';

const { spawn } = require('child_process');

class Browser {
  constructor(executable, args) {
    this.proc = spawn(executable, args.concat(['--remote-debugging-pipe']), {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.stderr = '';
    this.exited = false;
    let buf = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let nul;
      while ((nul = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, nul).toString('utf8'));
        buf = buf.subarray(nul + 1);
        this.dispatch(msg);
      }
    });
    this.proc.stderr.on('data', (d) => {
      if (this.stderr.length < 20000) this.stderr += d.toString();
    });
    this.proc.on('exit', () => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error('chromium exited: ' + this.stderr.slice(-2000)));
      this.pending.clear();
    });
  }

  dispatch(msg) {
    if (msg.id !== undefined && this.pending.has(msg.id)) {
      const { resolve, reject, method } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) reject(new Error(method + ': ' + msg.error.message));
      else resolve(msg.result);
      return;
    }
    for (const fn of this.listeners) fn(msg);
  }

  send(method, params, sessionId, timeoutMs) {
    if (this.exited) return Promise.reject(new Error('chromium is not running'));
    const id = this.nextId++;
    const msg = { id: id, method: method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(method + ': no answer within ' + (timeoutMs || 15000) + ' ms'));
      }, timeoutMs || 15000);
      this.pending.set(id, {
        method: method,
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  on(fn) {
    this.listeners.push(fn);
  }

  /* A new page: its session id. */
  async newPage(width, height) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId: targetId, flatten: true });
    await this.send('Page.enable', {}, sessionId);
    await this.send('Runtime.enable', {}, sessionId);
    await this.send('Log.enable', {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride',
      { width: width, height: height, deviceScaleFactor: 1, mobile: width < 600 }, sessionId);
    return sessionId;
  }

  /* Evaluate an expression in the page; its value (JSON-able). */
  async eval(sessionId, expression) {
    const r = await this.send('Runtime.evaluate', { expression: expression, returnByValue: true, awaitPromise: true }, sessionId);
    if (r.exceptionDetails) throw new Error('evaluate: ' + (r.exceptionDetails.exception && r.exceptionDetails.exception.description || r.exceptionDetails.text));
    return r.result.value;
  }

  /* Kill chromium and wait for it to be gone (its profile can be removed then). */
  close() {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', resolve);
      this.proc.kill('SIGKILL');
    });
  }
}

module.exports = { Browser };
