// ESM entry point: the same module as index.js (one native library, one cache).
import cjs from './index.js';

export const {
  PaytrimAuthClient,
  PaytrimAuthError,
  ERROR_CODES,
  CLIENT_CLOSED,
  ABI_VERSION,
  LIBRARY_PATH,
  nativeVersion,
  setLogger,
  errorCodeName,
} = cjs;

export default cjs;
