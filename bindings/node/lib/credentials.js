'use strict';

// Credentials other than a client secret: which options name them, and how a
// native client is made from them (paytrim_auth_credential_* and the
// environment / managed-identity constructors of the C ABI).
//
// Assertion functions: the library asks for an assertion on its own fetch
// thread, but never calls JavaScript from it. The credential is made with
// paytrim_auth_credential_from_assertion_notifier: the request is queued on
// this environment's notifier (lib/notifier.js), taken on this JS thread,
// and handed to the user's (possibly async) function; the answer goes back
// through paytrim_auth_assertion_complete / _fail when the promise settles
// (the library waits for it at most until the fetch's time budget ends).
// When the environment ends (a terminated worker), the library fails its
// pending and later assertion requests itself.

const { N } = require('./native');
const { notifier, setAssertionHandler } = require('./notifier');

const CREDENTIAL_OPTIONS = Object.freeze([
  'clientSecret',
  'certificatePath',
  'certificatePassword',
  'certificatePem',
  'privateKeyPem',
  'certificatePfx',
  'signingAlgorithm',
  'sendCertificateChain',
  'assertion',
  'federatedTokenFile',
  'managedIdentity',
]);

/**
 * The credential named by `options` (already type-checked by the caller's
 * checkText): { kind, ... } or throws. Exactly one kind must be given.
 */
function parseCredential(options, { checkText, invalidArgument }) {
  const kinds = [];
  if (options.clientSecret !== undefined && options.clientSecret !== null) kinds.push('clientSecret');
  if (options.certificatePath !== undefined && options.certificatePath !== null) kinds.push('certificatePath');
  if (options.certificatePem !== undefined && options.certificatePem !== null) kinds.push('certificatePem');
  if (options.certificatePfx !== undefined && options.certificatePfx !== null) kinds.push('certificatePfx');
  if (options.assertion !== undefined && options.assertion !== null) kinds.push('assertion');
  if (options.federatedTokenFile !== undefined && options.federatedTokenFile !== null) kinds.push('federatedTokenFile');
  if (options.managedIdentity !== undefined && options.managedIdentity !== null && options.managedIdentity !== false) {
    kinds.push('managedIdentity');
  }
  if (kinds.length === 0) {
    throw invalidArgument(
      'no credential: give one of clientSecret, certificatePath, certificatePem (+ privateKeyPem), certificatePfx, assertion, ' +
        'federatedTokenFile or managedIdentity (or use PaytrimAuthClient.fromEnvironment())'
    );
  }
  if (kinds.length > 1) throw invalidArgument(`options ${kinds.join(' and ')} conflict: give exactly one credential`);
  const isCert = kinds[0] === 'certificatePath' || kinds[0] === 'certificatePem' || kinds[0] === 'certificatePfx';
  for (const o of ['certificatePassword', 'signingAlgorithm', 'sendCertificateChain']) {
    if (options[o] !== undefined && options[o] !== null && !isCert) {
      throw invalidArgument(`option ${o} applies to a certificate (certificatePath or certificatePem) only`);
    }
  }
  if (options.privateKeyPem !== undefined && options.privateKeyPem !== null && kinds[0] !== 'certificatePem') {
    throw invalidArgument('option privateKeyPem goes with certificatePem');
  }
  const certOptions = [];
  if (isCert) {
    if (options.signingAlgorithm !== undefined && options.signingAlgorithm !== null) {
      certOptions.push(['signing_algorithm', checkText('signingAlgorithm', options.signingAlgorithm)]);
    }
    if (options.sendCertificateChain !== undefined && options.sendCertificateChain !== null) {
      if (typeof options.sendCertificateChain !== 'boolean') {
        throw new TypeError('paytrim-auth: option sendCertificateChain must be a boolean');
      }
      certOptions.push(['send_certificate_chain', String(options.sendCertificateChain)]);
    }
  }
  switch (kinds[0]) {
    case 'clientSecret':
      return { kind: 'secret', secret: checkText('clientSecret', options.clientSecret, { required: true }) };
    case 'certificatePath':
      return {
        kind: 'certificateFile',
        path: checkText('certificatePath', options.certificatePath, { required: true }),
        password: checkText('certificatePassword', options.certificatePassword),
        certOptions,
      };
    case 'certificatePem':
      return {
        kind: 'certificatePem',
        certPem: checkText('certificatePem', options.certificatePem, { required: true }),
        keyPem: checkText('privateKeyPem', options.privateKeyPem === undefined ? options.certificatePem : options.privateKeyPem, {
          required: true,
        }),
        password: checkText('certificatePassword', options.certificatePassword),
        certOptions,
      };
    case 'certificatePfx':
      if (!(options.certificatePfx instanceof Uint8Array)) {
        throw new TypeError('paytrim-auth: option certificatePfx must be a Buffer or Uint8Array (a PKCS#12 archive)');
      }
      return {
        kind: 'certificatePfx',
        data: Buffer.from(options.certificatePfx),
        password: checkText('certificatePassword', options.certificatePassword),
        certOptions,
      };
    case 'assertion':
      if (typeof options.assertion !== 'function') {
        throw new TypeError('paytrim-auth: option assertion must be a function returning a JWT (or a promise of one)');
      }
      return { kind: 'assertion', fn: options.assertion };
    case 'federatedTokenFile':
      return { kind: 'federated', path: checkText('federatedTokenFile', options.federatedTokenFile, { required: true }) };
    default:
      return { kind: 'managedIdentity', identity: managedIdentitySpec(options.managedIdentity, invalidArgument) };
  }
}

/** `true` / 'system' / 'client_id:…' / { clientId | objectId | resourceId } → the C ABI's text form. */
function managedIdentitySpec(v, invalidArgument) {
  if (v === true) return 'system';
  if (typeof v === 'string') {
    if (v.includes('\0')) throw invalidArgument('option managedIdentity must not contain NUL characters');
    return v;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    const known = { clientId: 'client_id', objectId: 'object_id', resourceId: 'resource_id' };
    if (keys.length !== 1 || !known[keys[0]] || typeof v[keys[0]] !== 'string') {
      throw invalidArgument('option managedIdentity must be true, a string, or one of { clientId }, { objectId }, { resourceId }');
    }
    return `${known[keys[0]]}:${v[keys[0]]}`;
  }
  throw new TypeError('paytrim-auth: option managedIdentity must be true, a string or an object');
}

// ---------------------------------------------------------------- assertion callbacks

// Each request carries a provider id naming the user's function. Each native
// client made for a provider holds one reference, released when that native
// client is freed (releaseCredential).
let nextProviderId = 1;
const providers = new Map(); // id -> { fn, refs }

function describe(e) {
  if (e instanceof Error) return `the assertion function threw ${e.name}: ${e.message}`;
  return `the assertion function rejected with ${String(e)}`;
}

function answer(completion, fnName, text) {
  let err;
  try {
    err = fnName === 'complete' ? N.assertionComplete(completion, text) : N.assertionFail(completion, text);
  } finally {
    // An unusable answer fails the fetch with a clear error; the error
    // returned here says the same.
    if (err) N.errorFree(err);
  }
}

function onAssertion(providerId, clientId, audience, completion) {
  let done = false;
  const settle = (fnName, text) => {
    if (done) return;
    done = true;
    answer(completion, fnName, text);
  };
  try {
    const p = providers.get(providerId);
    const fn = p && p.fn;
    if (!fn) {
      settle('fail', 'the assertion function is gone');
      return;
    }
    Promise.resolve()
      .then(() => fn({ clientId, audience }))
      .then(
        (jwt) => {
          if (typeof jwt !== 'string') settle('fail', `the assertion function returned ${jwt === null ? 'null' : typeof jwt}, not a string`);
          else settle('complete', jwt);
        },
        (e) => settle('fail', describe(e))
      )
      .catch(() => {});
  } catch (e) {
    settle('fail', describe(e));
  }
}

/** Releases what the native client made for `spec` held (call once per native client, when it is freed). */
function releaseCredential(spec) {
  if (spec.kind !== 'assertion') return;
  const p = providers.get(spec.providerId);
  if (p && --p.refs === 0) providers.delete(spec.providerId);
}

// ---------------------------------------------------------------- native clients

/** Makes a native client (pointer) for `spec` with the filled `cfg`; throws the library's error. */
function newNativeClient(clientId, spec, cfg, takeError) {
  const out = [null];
  let err;
  if (spec.kind === 'secret') {
    err = N.clientNew(clientId, spec.secret, cfg, out);
  } else if (spec.kind === 'environment') {
    err = N.clientNewFromEnvironment(cfg, out);
  } else if (spec.kind === 'managedIdentity') {
    err = N.clientNewManagedIdentity(spec.identity, cfg, out);
  } else {
    const cred = newCredential(spec, takeError);
    try {
      err = N.clientNewWithCredential(clientId, cred, cfg, out);
      if (spec.kind === 'assertion') {
        if (!err) providers.get(spec.providerId).refs++;
        else if (providers.get(spec.providerId).refs === 0) providers.delete(spec.providerId);
      }
    } finally {
      N.credentialFree(cred);
    }
  }
  if (err) throw takeError(err);
  return out[0];
}

function newCredential(spec, takeError) {
  const out = [null];
  let err;
  switch (spec.kind) {
    case 'certificateFile':
      err = N.credentialFromCertificateFile(spec.path, spec.password === undefined ? null : spec.password, out);
      break;
    case 'certificatePem':
      err = N.credentialFromCertificatePem(spec.certPem, spec.keyPem, spec.password === undefined ? null : spec.password, out);
      break;
    case 'certificatePfx':
      err = N.credentialFromPkcs12(spec.data, spec.data.length, spec.password === undefined ? null : spec.password, out);
      break;
    case 'federated':
      err = N.credentialFromFederatedTokenFile(spec.path, out);
      break;
    case 'assertion': {
      setAssertionHandler(onAssertion);
      if (spec.providerId === undefined || !providers.has(spec.providerId)) {
        spec.providerId = nextProviderId++;
        providers.set(spec.providerId, { fn: spec.fn, refs: 0 });
      }
      err = N.credentialFromAssertionNotifier(notifier(takeError).id, spec.providerId, out);
      if (err && providers.get(spec.providerId).refs === 0) providers.delete(spec.providerId);
      break;
    }
    default:
      throw new Error(`paytrim-auth: unknown credential kind ${spec.kind}`);
  }
  if (err) throw takeError(err);
  const cred = out[0];
  try {
    for (const [k, v] of spec.certOptions || []) {
      const e = N.credentialSet(cred, k, v);
      if (e) throw takeError(e);
    }
  } catch (e) {
    N.credentialFree(cred);
    throw e;
  }
  return cred;
}

module.exports = { CREDENTIAL_OPTIONS, parseCredential, newNativeClient, releaseCredential };
