using System;
using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>The hit fast path must never mistake one token for another.</summary>
    [TestFixture]
    public class TokenSnapshotTests
    {
        private static IntPtr Native(string s, int offset, out IntPtr block)
        {
            byte[] b = Encoding.UTF8.GetBytes(s + "\0");
            block = Marshal.AllocHGlobal(b.Length + 16);
            IntPtr p = new IntPtr(((block.ToInt64() + 7) & ~7L) + offset);
            Marshal.Copy(b, 0, p, b.Length);
            return p;
        }

        private static bool Matches(string cached, string other, int offset, long expA = 1, long expB = 1)
        {
            IntPtr ba, bb;
            IntPtr a = Native(cached, 0, out ba);
            IntPtr b = Native(other, offset, out bb);
            try
            {
                var snap = TokenSnapshot.Create(a, expA);
                Assert.AreEqual(cached, snap.Token.Token);
                return snap.Matches(b, expB);
            }
            finally
            {
                Marshal.FreeHGlobal(ba);
                Marshal.FreeHGlobal(bb);
            }
        }

        [Test]
        public void EqualOnlyForTheSameBytesAndExpiry()
        {
            for (int len = 0; len <= 33; len++)
            {
                string t = new string('x', len);
                for (int off = 0; off < 8; off++)
                {
                    Assert.IsTrue(Matches(t, t, off), "same, len " + len + " offset " + off);
                    Assert.IsFalse(Matches(t, t + "y", off), "longer, len " + len);
                    if (len > 0)
                    {
                        Assert.IsFalse(Matches(t, t.Substring(0, len - 1), off), "shorter, len " + len);
                        Assert.IsFalse(Matches(t, t.Substring(0, len - 1) + "z", off), "last byte differs, len " + len);
                        Assert.IsFalse(Matches(t, "z" + t.Substring(1), off), "first byte differs, len " + len);
                    }
                }
                Assert.IsFalse(Matches(t, t, 0, 1, 2), "other expiry");
            }
            Assert.IsTrue(Matches("jwt-ü€", "jwt-ü€", 0));
            Assert.IsFalse(Matches("jwt-ü€", "jwt-ü£", 0));
        }
    }
}
