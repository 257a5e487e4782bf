'use strict';

// Small loopback servers for the option tests: one that accepts TCP and never
// answers (a TLS handshake that stalls), and an HTTP CONNECT proxy that records
// each request line and tunnels the bytes.

const net = require('node:net');

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function silentServer() {
  const held = [];
  const server = net.createServer((sock) => {
    held.push(sock);
    sock.on('error', () => {});
  });
  const port = await listen(server);
  return {
    port,
    held,
    close() {
      for (const s of held) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// With `upstreamHost`, every tunnel goes to that host at the port the CONNECT
// names, whatever host it names: a test reaches a loopback server under a name
// that does not resolve (clients never send a loopback host through an
// environment proxy).
async function recordingProxy({ upstreamHost } = {}) {
  const requestLines = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.removeListener('data', onData);
      const first = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      requestLines.push(first);
      const [method, target] = first.split(' ');
      if (method !== 'CONNECT') {
        client.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const colon = target.lastIndexOf(':');
      const up = net.connect(Number(target.slice(colon + 1)), upstreamHost || target.slice(0, colon), () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length) up.write(rest);
        client.pipe(up);
        up.pipe(client);
      });
      sockets.add(up);
      up.on('error', () => client.destroy());
      up.on('close', () => sockets.delete(up));
    };
    client.on('data', onData);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requestLines,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

module.exports = { silentServer, recordingProxy };
