package com.paytrim.auth;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Small loopback servers for the option tests: one that never answers, one recording HTTP proxy. */
final class LoopbackServers {
    private LoopbackServers() {
    }

    /** Accepts TCP connections and holds them open without a byte in reply: a TLS handshake that stalls. */
    static final class Silent implements AutoCloseable {
        private final ServerSocket server;
        final List<Socket> held = Collections.synchronizedList(new ArrayList<>());

        Silent() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        held.add(server.accept());
                    }
                } catch (IOException closed) {
                    // close() ends the loop
                }
            }, "silent-server");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (held) {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    /**
     * An HTTP CONNECT proxy that records each request line ("CONNECT host:port HTTP/1.1")
     * and then tunnels the bytes both ways.
     */
    static final class RecordingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final String upstreamHost;
        final List<String> requestLines = Collections.synchronizedList(new ArrayList<>());

        RecordingProxy() throws IOException {
            this(null);
        }

        /**
         * With {@code upstreamHost} not null, every tunnel goes to that host at the port the
         * CONNECT names, whatever host it names: a test reaches a loopback server under a
         * name that does not resolve (clients never send a loopback host through an
         * environment proxy).
         */
        RecordingProxy(String upstreamHost) throws IOException {
            this.upstreamHost = upstreamHost;
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Socket client = server.accept();
                        daemon(() -> serve(client));
                    }
                } catch (IOException closed) {
                    // close() ends the loop
                }
            }, "recording-proxy");
            t.setDaemon(true);
            t.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        private void serve(Socket client) {
            try (Socket c = client) {
                InputStream in = c.getInputStream();
                String head = readHead(in);
                String first = head.split("\r\n", 2)[0];
                requestLines.add(first);
                String[] parts = first.split(" ");
                if (parts.length < 2 || !parts[0].equals("CONNECT")) {
                    c.getOutputStream().write("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                int colon = parts[1].lastIndexOf(':');
                try (Socket up = new Socket()) {
                    up.connect(new InetSocketAddress(upstreamHost != null ? upstreamHost : parts[1].substring(0, colon),
                            Integer.parseInt(parts[1].substring(colon + 1))), 5000);
                    c.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    Thread back = daemon(() -> pipe(up, c));
                    pipe(c, up);
                    back.join(10_000);
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                // the client went away: nothing to record
            }
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int state = 0;
            while (state < 4) {
                int ch = in.read();
                if (ch < 0) {
                    throw new IOException("proxy request ended early");
                }
                b.write(ch);
                state = (ch == '\r' && (state == 0 || state == 2)) || (ch == '\n' && (state == 1 || state == 3)) ? state + 1
                        : (ch == '\r' ? 1 : 0);
            }
            return new String(b.toByteArray(), StandardCharsets.US_ASCII);
        }

        private static void pipe(Socket from, Socket to) {
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
                to.shutdownOutput();
            } catch (IOException e) {
                // one side closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "loopback-server");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
