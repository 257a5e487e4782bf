using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Paytrim.Auth.Tests
{
    /// <summary>Accepts TCP connections and holds them open without a byte in reply: a TLS handshake that stalls.</summary>
    internal sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _held = new List<TcpClient>();

        public SilentServer()
        {
            _listener.Start();
            var t = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var c = _listener.AcceptTcpClient();
                        lock (_held) _held.Add(c);
                    }
                }
                catch (Exception)
                {
                    // Stop() ends the loop
                }
            }) { IsBackground = true };
            t.Start();
        }

        public int Port { get { return ((IPEndPoint)_listener.LocalEndpoint).Port; } }

        public int Held { get { lock (_held) return _held.Count; } }

        public void Dispose()
        {
            _listener.Stop();
            lock (_held) foreach (var c in _held) c.Close();
        }
    }

    /// <summary>An HTTP CONNECT proxy that records each request line and tunnels the bytes both ways.</summary>
    internal sealed class RecordingProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly List<string> _lines = new List<string>();
        private readonly string _upstreamHost;

        public RecordingProxy() : this(null)
        {
        }

        /// <summary>
        /// With <paramref name="upstreamHost"/> not null, every tunnel goes to that host at the port
        /// the CONNECT names, whatever host it names: a test reaches a loopback server under a name
        /// that does not resolve (clients never send a loopback host through an environment proxy).
        /// </summary>
        public RecordingProxy(string upstreamHost)
        {
            _upstreamHost = upstreamHost;
            _listener.Start();
            var t = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var c = _listener.AcceptTcpClient();
                        new Thread(() => Serve(c)) { IsBackground = true }.Start();
                    }
                }
                catch (Exception)
                {
                    // Stop() ends the loop
                }
            }) { IsBackground = true };
            t.Start();
        }

        public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port; } }

        public List<string> RequestLines { get { lock (_lines) return new List<string>(_lines); } }

        private void Serve(TcpClient client)
        {
            try
            {
                using (client)
                {
                    var s = client.GetStream();
                    string head = ReadHead(s);
                    string first = head.Split(new[] { "\r\n" }, StringSplitOptions.None)[0];
                    lock (_lines) _lines.Add(first);
                    string[] parts = first.Split(' ');
                    if (parts.Length < 2 || parts[0] != "CONNECT")
                    {
                        Write(s, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                        return;
                    }
                    int colon = parts[1].LastIndexOf(':');
                    using (var up = new TcpClient())
                    {
                        up.Connect(_upstreamHost ?? parts[1].Substring(0, colon), int.Parse(parts[1].Substring(colon + 1)));
                        Write(s, "HTTP/1.1 200 Connection established\r\n\r\n");
                        var u = up.GetStream();
                        var back = new Thread(() => Pipe(u, s, client.Client)) { IsBackground = true };
                        back.Start();
                        Pipe(s, u, up.Client);
                        back.Join(10000);
                    }
                }
            }
            catch (Exception)
            {
                // the client went away
            }
        }

        private static void Write(Stream s, string text)
        {
            byte[] b = Encoding.ASCII.GetBytes(text);
            s.Write(b, 0, b.Length);
        }

        private static string ReadHead(Stream s)
        {
            var sb = new StringBuilder();
            while (!sb.ToString().EndsWith("\r\n\r\n"))
            {
                int ch = s.ReadByte();
                if (ch < 0) throw new IOException("proxy request ended early");
                sb.Append((char)ch);
            }
            return sb.ToString();
        }

        private static void Pipe(Stream from, Stream to, Socket toSocket)
        {
            try
            {
                var buf = new byte[8192];
                int n;
                while ((n = from.Read(buf, 0, buf.Length)) > 0)
                {
                    to.Write(buf, 0, n);
                    to.Flush();
                }
                toSocket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception)
            {
                // one side closed
            }
        }

        public void Dispose()
        {
            _listener.Stop();
        }
    }
}
