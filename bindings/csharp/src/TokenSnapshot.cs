using System;
using System.Text;

namespace Paytrim.Auth
{
    /// <summary>
    /// The last token a client materialized, with its UTF-8 bytes packed in 8-byte words, so a
    /// cache hit can be recognized by comparing the native copy word by word instead of decoding
    /// ~1.5 KB of UTF-8 and allocating a new string on every call (the decode costs several
    /// microseconds under Mono; the comparison a few hundred nanoseconds). Immutable; swapped
    /// atomically.
    /// </summary>
    internal sealed class TokenSnapshot
    {
        private readonly ulong[] _words; // bytes [0, _len) of the token, then zeros (NUL at _len)
        private readonly int _len;       // strlen
        private readonly long _expiresOnUnixMs;
        internal readonly AccessToken Token;

        private TokenSnapshot(ulong[] words, int len, long expiresOnUnixMs, AccessToken token)
        {
            _words = words;
            _len = len;
            _expiresOnUnixMs = expiresOnUnixMs;
            Token = token;
        }

        /// <summary>
        /// Whether the NUL-terminated string at <paramref name="p"/> is this token. Reads the
        /// native string in aligned 8-byte words (as strlen implementations do: an aligned word
        /// never crosses a page, so reading past the terminator inside it cannot fault), stopping
        /// at the first difference, which is at the latest the word holding the native terminator.
        /// </summary>
        internal unsafe bool Matches(IntPtr p, long expiresOnUnixMs)
        {
            if (expiresOnUnixMs != _expiresOnUnixMs || !BitConverter.IsLittleEndian || ((long)p & 7) != 0)
                return expiresOnUnixMs == _expiresOnUnixMs && MatchesBytewise((byte*)p);
            ulong* w = (ulong*)p;
            int full = _len >> 3;
            fixed (ulong* c = _words)
            {
                for (int i = 0; i < full; i++)
                {
                    if (w[i] != c[i]) return false;
                }
                int rem = _len & 7;                                 // token bytes in the last word, then the NUL
                ulong mask = rem == 7 ? ulong.MaxValue : (1UL << ((rem + 1) * 8)) - 1;
                return (w[full] & mask) == c[full];
            }
        }

        private unsafe bool MatchesBytewise(byte* b)
        {
            fixed (ulong* c = _words)
            {
                byte* cb = (byte*)c;
                for (int i = 0; i <= _len; i++)
                {
                    if (b[i] != cb[i]) return false;
                }
            }
            return true;
        }

        /// <summary>Copies (does not free) the NUL-terminated UTF-8 token at <paramref name="p"/>.</summary>
        internal static unsafe TokenSnapshot Create(IntPtr p, long expiresOnUnixMs)
        {
            byte* b = (byte*)p;
            int len = 0;
            while (b[len] != 0) len++;
            var words = new ulong[(len >> 3) + 1];
            fixed (ulong* c = words)
            {
                byte* cb = (byte*)c;
                for (int i = 0; i < len; i++) cb[i] = b[i];
            }
            string token = len == 0 ? string.Empty : Encoding.UTF8.GetString(b, len);
            return new TokenSnapshot(words, len, expiresOnUnixMs, new AccessToken(token, expiresOnUnixMs));
        }
    }
}
