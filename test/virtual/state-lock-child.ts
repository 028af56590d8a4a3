/**
 * Child process for state-lock.test.ts: opens a VirtualAuthenticator on the
 * state file argv[2], prints `ready PID`, then per argv[3]:
 *   hold    wait until stdin closes (or a signal), then close the key and exit
 *   kill    SIGKILL itself (no exit handler runs: the lock is left stale)
 *   exit    process.exit(0) without close() (the 'exit' handler removes the lock)
 */
import { VirtualAuthenticator } from '../../src/virtual/index.js';

const path = process.argv[2]!;
const mode = process.argv[3] ?? 'hold';
const key = await VirtualAuthenticator.create({ statePath: path });
process.stdout.write(`ready ${process.pid}\n`);
if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
if (mode === 'exit') process.exit(0);
process.stdin.resume();
process.stdin.on('end', () => {
  void key.close().then(() => process.exit(0));
});
