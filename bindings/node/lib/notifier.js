'use strict';

// How results come back from the library's threads: never by calling into
// JavaScript from them.
//
// A registered koffi callback called from a library thread is queued to the
// JS thread of the environment that registered it, and the library thread
// blocks until it ran. When that environment is a worker that has ended
// (worker.terminate(), process.exit() in the worker), the call lands in freed
// state and the whole process dies (SIGSEGV/SIGABRT). koffi offers no hook to
// learn that an environment ends (its own cleanup hook is internal; a
// terminated worker emits no 'exit' event), so no unregister can be timed
// safely.
//
// Instead each environment owns one native *notifier* (src/ffi/notify.rs): a
// queue in the library plus a Unix socket pair. Requests are made with
// paytrim_auth_client_get_token_notify(client, notifier, request); the library
// queues the result and writes one byte when the queue was empty. This side
// watches the socket with a net.Socket (epoll in the event loop, no thread
// blocked) and takes every queued result with paytrim_auth_notifier_next on
// its own thread. When an environment ends, Node closes the socket with the
// environment's other handles; the library sees the closed reader and drops
// the notifier and its results. process.exit() also frees it explicitly.

const net = require('node:net');
const { N, takeString } = require('./native');

// Raw output slots for paytrim_auth_notifier_next (one JS thread per
// environment; each drain reads them before the next call).
const outRequest = new BigUint64Array(1);
const outToken = new BigUint64Array(1);
const outExpires = new BigInt64Array(1);
const outError = [null];

/** Counters for tests and benchmarks. */
const stats = { wakeUps: 0, deliveries: 0 };

class Notifier {
  /** @param takeError reads and frees an owned paytrim_auth_error * */
  constructor(takeError) {
    this.takeError = takeError;
    const idOut = [0];
    const fdOut = [-1];
    const err = N.notifierNew(idOut, fdOut);
    if (err) throw takeError(err);
    this.id = idOut[0];
    const fd = fdOut[0];
    try {
      this.socket = new net.Socket({ fd, readable: true, writable: false });
    } catch (e) {
      N.notifierFree(this.id);
      N.notifierCloseFd(fd);
      throw e;
    }
    this.pending = new Map(); // request number -> { resolve, reject }
    this.nextRequest = 1;
    this.closed = false;
    this.socket.on('data', () => {
      stats.wakeUps++;
      this.drain();
    });
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('paytrim-auth: the notifier socket closed')));
    this.socket.unref(); // ref'd only while requests are pending
    this.onExit = () => this.close();
    process.on('exit', this.onExit);
  }

  /**
   * Starts a native request (`N.getTokenNotify` or `N.refreshTokenNotify`)
   * for `clientPtr`; resolves with { token, expiresOnUnixMs }.
   */
  request(notifyFn, clientPtr) {
    return new Promise((resolve, reject) => {
      const id = this.nextRequest++;
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.socket.ref();
      let err;
      try {
        err = notifyFn(clientPtr, this.id, id);
      } catch (e) {
        this.forget(id);
        reject(e);
        return;
      }
      if (err) {
        this.forget(id); // nothing will be queued
        reject(this.takeError(err));
      }
    });
  }

  forget(id) {
    this.pending.delete(id);
    if (this.pending.size === 0 && !this.closed) this.socket.unref();
  }

  /** Takes every queued result and settles its request. */
  drain() {
    for (;;) {
      outRequest[0] = 0n;
      outToken[0] = 0n;
      outError[0] = null;
      const err = N.notifierNext(this.id, outRequest, outToken, outExpires, outError);
      if (err) {
        this.fail(this.takeError(err));
        return;
      }
      const id = Number(outRequest[0]);
      if (id === 0) break;
      stats.deliveries++;
      const p = this.pending.get(id);
      this.forget(id);
      let value = null;
      let error = null;
      if (outToken[0] !== 0n) {
        value = { token: takeString(outToken[0]), expiresOnUnixMs: Number(outExpires[0]) };
      } else {
        error = this.takeError(outError[0]);
      }
      if (!p) continue;
      if (error) p.reject(error);
      else p.resolve(value);
    }
  }

  /** The socket failed: no result can arrive any more; fail what waits. */
  fail(cause) {
    if (this.closed) return;
    this.close();
    for (const p of this.pending.values()) {
      const e = new Error('paytrim-auth: lost the connection to the native library\'s notifier', { cause });
      p.reject(e);
    }
    this.pending.clear();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('exit', this.onExit);
    if (current === this) current = null;
    N.notifierFree(this.id);
    this.socket.destroy();
  }
}

let current = null;

/** This environment's notifier (created on first use, again after a failure). */
function notifier(takeError) {
  if (current === null) current = new Notifier(takeError);
  return current;
}

module.exports = { notifier, stats };
