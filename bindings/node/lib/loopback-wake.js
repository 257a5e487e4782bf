'use strict';

// The notifier's wake-up channel where the library's socket pair cannot be
// used: on Windows there is no socket pair, and net.Socket cannot wrap a raw
// SOCKET. This side makes a random cookie (handed to
// paytrim_auth_notifier_new_loopback) and listens on 127.0.0.1 (an ephemeral
// port); once it listens, the library connects there
// (paytrim_auth_notifier_connect_loopback), writes the cookie, then one byte
// per wake-up. Exactly one connection is accepted: the first whose first bytes
// equal the cookie. Any other connection is closed, and once the library's
// connection is in, the listener closes, so no other local process can inject
// or take wake-ups. From then on this behaves like the net.Socket of the
// socket-pair path (lib/notifier.js): 'data' for wake-up bytes, 'error',
// 'close', ref()/unref()/destroy(). When the environment ends, Node closes the
// connection with its other handles and the library drops the notifier.

const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');
const net = require('node:net');

const COOKIE_BYTES = 32;
/** A connection that has not sent a whole cookie by then is closed. */
const HANDSHAKE_MS = 10_000;

/**
 * Which wake-up channel notifiers use: 'loopback' on Windows, 'socketpair'
 * elsewhere; PAYTRIM_AUTH_NOTIFIER=loopback|socketpair overrides (the tests
 * run the suite through the loopback path on Linux with it).
 */
function wakeChannelKind(env = process.env, platform = process.platform) {
  const v = env.PAYTRIM_AUTH_NOTIFIER;
  if (v === undefined || v === '') return platform === 'win32' ? 'loopback' : 'socketpair';
  if (v === 'loopback' || v === 'socketpair') return v;
  throw new Error(`paytrim-auth: PAYTRIM_AUTH_NOTIFIER is ${JSON.stringify(v)}; use "loopback" or "socketpair"`);
}

class LoopbackWake extends EventEmitter {
  constructor() {
    super();
    this.cookie = crypto.randomBytes(COOKIE_BYTES);
    this.socket = null; // the library's connection, once its cookie arrived
    this.strangers = new Set(); // connections still owing their cookie
    this.refd = true;
    this.destroyed = false;
    this.server = net.createServer((s) => this.onConnection(s));
    this.server.on('error', (e) => {
      if (this.socket === null) this.emit('error', e);
    });
    this.port = null;
    this.server.listen({ host: '127.0.0.1', port: 0, exclusive: true });
  }

  /** Calls fn(port) once the listener is up (never if it fails or is destroyed first). */
  onListening(fn) {
    this.server.once('listening', () => {
      if (this.destroyed) return;
      this.port = this.server.address().port;
      fn(this.port);
    });
  }

  onConnection(s) {
    if (this.socket !== null || this.destroyed) {
      s.destroy();
      return;
    }
    this.strangers.add(s);
    s.unref(); // only the listener (or the accepted connection) keeps the loop alive
    s.on('error', () => {}); // a refused connection's failure is nobody's concern
    const timer = setTimeout(() => s.destroy(), HANDSHAKE_MS);
    timer.unref();
    let got = Buffer.alloc(0);
    const onData = (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < this.cookie.length) return;
      clearTimeout(timer);
      s.removeListener('data', onData);
      this.strangers.delete(s);
      const theirs = got.subarray(0, this.cookie.length);
      if (this.socket !== null || this.destroyed || !crypto.timingSafeEqual(theirs, this.cookie)) {
        s.destroy();
        return;
      }
      this.accept(s, got.subarray(this.cookie.length));
    };
    s.on('data', onData);
    s.on('close', () => {
      clearTimeout(timer);
      this.strangers.delete(s);
    });
  }

  accept(s, rest) {
    this.socket = s;
    this.server.close();
    for (const other of this.strangers) other.destroy();
    this.strangers.clear();
    s.on('data', (d) => this.emit('data', d));
    s.on('error', (e) => this.emit('error', e));
    s.on('close', () => this.emit('close'));
    if (this.refd) s.ref();
    if (rest.length > 0) this.emit('data', rest);
  }

  ref() {
    this.refd = true;
    if (this.socket !== null) this.socket.ref();
    else this.server.ref();
    return this;
  }

  unref() {
    this.refd = false;
    if (this.socket !== null) this.socket.unref();
    else this.server.unref();
    return this;
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.server.listening) this.server.close();
    for (const s of this.strangers) s.destroy();
    this.strangers.clear();
    if (this.socket !== null) this.socket.destroy();
  }
}

module.exports = { LoopbackWake, wakeChannelKind, COOKIE_BYTES };
