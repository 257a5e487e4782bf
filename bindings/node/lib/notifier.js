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
// queue in the library plus a Unix socket pair (on Windows, where there is
// none, a loopback TCP connection made by the library to a listener here:
// lib/loopback-wake.js; PAYTRIM_AUTH_NOTIFIER=loopback forces it). Requests
// are made with paytrim_auth_client_get_token_notify(client, notifier, request); the library
// queues the result and writes one byte when the queue was empty. This side
// watches the socket with a net.Socket (epoll in the event loop, no thread
// blocked) and takes every queued result with paytrim_auth_notifier_next on
// its own thread. When an environment ends, Node closes the socket with the
// environment's other handles; the library sees the closed reader and drops
// the notifier and its results. process.exit() also frees it explicitly.
//
// The library's log events reach setLogger() the same way: the notifier
// subscribes (paytrim_auth_notifier_set_log_level), events are queued in the
// library and taken here (paytrim_auth_notifier_next_log), so a logger always
// runs on its own environment's JS thread, never on a library thread, and
// events for an environment that ended are dropped with it.
//
// Assertion requests (the `assertion` credential option) come the same way:
// the credential is made with paytrim_auth_credential_from_assertion_notifier,
// the library queues each request with its completion, and this side takes
// it (paytrim_auth_notifier_next_assertion) and hands it to the handler set by
// lib/credentials.js, which answers with paytrim_auth_assertion_complete /
// _fail. Requests for an environment that ended fail in the library at once.

const net = require('node:net');
const { LoopbackWake, wakeChannelKind } = require('./loopback-wake');
const { N, takeString } = require('./native');

// Raw output slots for paytrim_auth_notifier_next (one JS thread per
// environment; each drain reads them before the next call).
const outRequest = new BigUint64Array(1);
const outToken = new BigUint64Array(1);
const outExpires = new BigInt64Array(1);
const outError = [null];
const outLevel = [0];
const outMessage = new BigUint64Array(1);
const outProvider = new BigUint64Array(1);
const outClientId = new BigUint64Array(1);
const outAudience = new BigUint64Array(1);
const outCompletion = [null];

/** Answers assertion requests: (providerId, clientId, audience, completion); set by lib/credentials.js. */
let assertionHandler = null;

const LEVEL_NAMES = [null, 'error', 'warn', 'info', 'debug', 'trace'];

/** This environment's logger: { fn, level } or null (kept across notifiers). */
let logger = null;

/** Counters for tests and benchmarks; `channel` is the last notifier's wake-up channel. */
const stats = { wakeUps: 0, deliveries: 0, channel: null };

class Notifier {
  /** @param takeError reads and frees an owned paytrim_auth_error * */
  constructor(takeError) {
    this.takeError = takeError;
    const kind = wakeChannelKind();
    if (kind === 'loopback') this.openLoopback();
    else this.openSocketPair();
    stats.channel = kind;
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
    if (logger !== null) this.subscribeLogs(logger.level);
  }

  /** The library's socket pair: its read end wrapped by fd (Unixes). */
  openSocketPair() {
    const idOut = [0];
    const fdOut = [-1];
    const err = N.notifierNew(idOut, fdOut);
    if (err) throw this.takeError(err);
    this.id = idOut[0];
    const fd = fdOut[0];
    try {
      this.socket = new net.Socket({ fd, readable: true, writable: false });
    } catch (e) {
      N.notifierFree(this.id);
      N.notifierCloseFd(fd);
      throw e;
    }
  }

  /**
   * A loopback TCP connection from the library (Windows; lib/loopback-wake.js).
   * The notifier exists at once; the library connects once the listener is up
   * (Node binds asynchronously), and wake-ups due before then follow the cookie.
   */
  openLoopback() {
    const channel = new LoopbackWake();
    const idOut = [0];
    const err = N.notifierNewLoopback(channel.cookie, channel.cookie.length, idOut);
    if (err) {
      channel.destroy();
      throw this.takeError(err);
    }
    this.id = idOut[0];
    this.socket = channel;
    channel.onListening((port) => {
      if (this.closed) return;
      const e = N.notifierConnectLoopback(this.id, port);
      if (e) this.fail(this.takeError(e));
    });
  }

  subscribeLogs(level) {
    const err = N.notifierSetLogLevel(this.id, level);
    if (err) throw this.takeError(err);
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

  /** Takes every queued log event and result (until both queues are empty). */
  drain() {
    for (;;) {
      const logs = this.drainLogs();
      const asks = this.drainAssertions();
      const results = this.drainResults();
      if (logs < 0 || asks < 0 || results < 0 || logs + asks + results === 0) return;
    }
  }

  /** Hands queued log events to the logger; their count, or -1 after a failure. */
  drainLogs() {
    let n = 0;
    for (;;) {
      outLevel[0] = 0;
      outMessage[0] = 0n;
      const err = N.notifierNextLog(this.id, outLevel, outMessage);
      if (err) {
        this.fail(this.takeError(err));
        return -1;
      }
      const level = outLevel[0];
      if (level === 0) return n;
      n++;
      const message = takeString(outMessage[0]);
      if (logger === null) continue;
      try {
        logger.fn(LEVEL_NAMES[level] || 'info', message);
      } catch (e) {
        // A throwing logger is the application's bug: surface it, but after
        // the results are delivered.
        process.nextTick(() => {
          throw e;
        });
      }
    }
  }

  /** Hands queued assertion requests to the handler; their count, or -1 after a failure. */
  drainAssertions() {
    let n = 0;
    for (;;) {
      outProvider[0] = 0n;
      outClientId[0] = 0n;
      outAudience[0] = 0n;
      outCompletion[0] = null;
      const err = N.notifierNextAssertion(this.id, outProvider, outClientId, outAudience, outCompletion);
      if (err) {
        this.fail(this.takeError(err));
        return -1;
      }
      const completion = outCompletion[0];
      if (completion === null) return n;
      n++;
      const clientId = takeString(outClientId[0]);
      const audience = takeString(outAudience[0]);
      const provider = Number(outProvider[0]);
      if (assertionHandler === null) {
        // Cannot happen (credentials.js sets it before making such a credential); never leak the completion.
        const e = N.assertionFail(completion, 'no assertion handler in this environment');
        if (e) N.errorFree(e);
        continue;
      }
      assertionHandler(provider, clientId, audience, completion);
    }
  }

  /** Settles requests from queued results; their count, or -1 after a failure. */
  drainResults() {
    let n = 0;
    for (;;) {
      outRequest[0] = 0n;
      outToken[0] = 0n;
      outError[0] = null;
      const err = N.notifierNext(this.id, outRequest, outToken, outExpires, outError);
      if (err) {
        this.fail(this.takeError(err));
        return -1;
      }
      const id = Number(outRequest[0]);
      if (id === 0) return n;
      n++;
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

/** Sets (fn, level 1..5) or clears (null) this environment's logger. */
function setLogger(takeError, fn, level) {
  if (fn === null) {
    logger = null;
    if (current !== null) current.subscribeLogs(0);
    return;
  }
  const n = notifier(takeError);
  n.subscribeLogs(level);
  logger = { fn, level };
}

/** Sets the function that answers this environment's assertion requests. */
function setAssertionHandler(fn) {
  assertionHandler = fn;
}

module.exports = { notifier, setLogger, setAssertionHandler, stats, LEVEL_NAMES };
