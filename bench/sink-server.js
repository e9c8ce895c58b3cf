/**
 * The loopback SMTP sink for the send benchmarks, run in its own process (fork this file) so its
 * CPU is not counted against the sender's event loop. No auth, no TLS, no reverse lookup; it
 * reads every message, counts it and replies 250. Talks to its parent over IPC:
 * → {port} once listening; ← 'count' → {count, bytes}; ← 'close' → closes and exits.
 */
import { SMTPServer } from 'smtp-server';

let count = 0;
let bytes = 0;

const server = new SMTPServer({
  secure: false,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  size: 50 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', (chunk) => (bytes += chunk.length));
    stream.on('end', () => {
      count++;
      callback(null, `OK queued as ${count}`);
    });
  },
});
server.on('error', () => {
  // a client that goes away between benchmarks is not a problem here
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.server.address().port });
});

process.on('message', (message) => {
  if (message === 'count') process.send?.({ count, bytes });
  if (message === 'reset') {
    count = 0;
    bytes = 0;
    process.send?.({ count, bytes });
  }
  if (message === 'close') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
