/**
 * The interactive paths a person takes at a terminal, with the CLI under a
 * real pseudo-terminal (python3's pty module relays between this test's pipes
 * and the pty master): no-echo PIN entry for `ctap pin set`, the reset
 * confirmation, the account prompt of a discoverable `ctap login`, and Ctrl-C
 * while the key waits for a touch. Keys: the in-process `virtual:FILE` key
 * (it powers up per command, so `reset` falls inside its 10 s window), and
 * for the touch that never comes `ctap virtual serve --presence prompt`, itself
 * on a pty, whose question nobody answers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctap, freeUdpPort, REPO_ROOT } from './helpers.js';

const PYTHON = '/usr/bin/python3';

/**
 * Runs argv on a new pty (the child is session leader, the pty its
 * controlling terminal, so \x03 becomes SIGINT). Our stdin goes to the pty
 * master, the master's output to our stdout; exits with the child's code
 * (128 + N for a signal).
 */
const RELAY = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
stdin_open = True
while True:
    fds = [fd] + ([0] if stdin_open else [])
    r, _, _ = select.select(fds, [], [])
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            stdin_open = False
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

function ptyAvailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed (apt-get install python3); the tty tests need its pty module`;
  return undefined;
}

interface PtyRun {
  child: ChildProcess;
  /** Everything the terminal showed so far (stdout and stderr mixed, as on a screen). */
  readonly screen: string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  type(s: string): void;
  /** The exit code; fails the test instead of hanging (a guard, not a timing assertion). */
  exit(ms?: number): Promise<number | null>;
  kill(): void;
}

function ptyCtap(args: readonly string[], env: Record<string, string> = {}): PtyRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', ...env };
  delete childEnv.CTAP_PIN;
  delete childEnv.CTAP_NEW_PIN;
  delete childEnv.CTAP_DEVICE;
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(PYTHON, ['-c', RELAY, process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let screen = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    for (const w of waiters) w();
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    get screen() {
      return screen;
    },
    waitFor(re, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (re.test(screen)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the terminal never showed ${re}; it showed: ${JSON.stringify(screen)}`));
        }, ms);
        waiters.add(check);
        void closed.then(() => {
          if (!re.test(screen)) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`exited before showing ${re}; the terminal showed: ${JSON.stringify(screen)}`));
          }
        });
        check();
      });
    },
    type(s) {
      child.stdin!.write(s);
    },
    exit(ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`ctap ${args.join(' ')} did not end; the terminal showed: ${JSON.stringify(screen)}`));
        }, ms);
        void closed.then((code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    kill() {
      // closing the master (the relay dies) hangs up the pty: its session gets SIGHUP
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-tty-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PIN = '73915046';

test('ctap pin set on a terminal: the PIN is typed twice and never echoed; then reset asks first', async (t) => {
  const skip = ptyAvailable();
  if (skip) return t.skip(skip);
  const key = join(dir, 'pin.json');
  const device = `virtual:${key}`;

  const set = ptyCtap(['pin', 'set', '--device', device]);
  t.after(() => set.kill());
  await set.waitFor(/New PIN: $/);
  set.type(`${PIN}\r`);
  await set.waitFor(/Repeat the new PIN: $/);
  set.type(`${PIN}\r`);
  assert.equal(await set.exit(), 0, set.screen);
  assert.match(set.screen, /PIN set\./);
  assert.ok(!set.screen.includes(PIN), `the PIN was echoed: ${JSON.stringify(set.screen)}`);
  assert.ok(!/\*{4,}/.test(set.screen), 'not even as stars: the length stays private');

  // it really is the PIN typed: a PIN-gated command takes it, a wrong one is refused
  const ok = await ctap(['creds', 'list', '--json', '--device', device], { env: { CTAP_PIN: PIN } });
  assert.equal(ok.code, 0, ok.stderr);
  const wrong = await ctap(['creds', 'list', '--json', '--device', device], { env: { CTAP_PIN: '11112222' } });
  assert.equal(wrong.code, 5, wrong.stderr);

  // two different PINs: nothing changes
  const key2 = join(dir, 'differ.json');
  const differ = ptyCtap(['pin', 'set', '--device', `virtual:${key2}`]);
  t.after(() => differ.kill());
  await differ.waitFor(/New PIN: $/);
  differ.type('55556666\r');
  await differ.waitFor(/Repeat the new PIN: $/);
  differ.type('55556667\r');
  assert.equal(await differ.exit(), 5, differ.screen);
  assert.match(differ.screen, /The two PINs differ/);
  assert.ok(!differ.screen.includes('5555666'));
  const still = await ctap(['pin', 'status', '--json', '--device', `virtual:${key2}`]);
  assert.equal((JSON.parse(still.stdout) as { pinSet: boolean }).pinSet, false);

  // reset: "n" keeps everything
  const no = ptyCtap(['reset', '--device', device]);
  t.after(() => no.kill());
  await no.waitFor(/This cannot be undone \[y\/N\] /);
  no.type('n\r');
  assert.equal(await no.exit(), 1, no.screen);
  assert.match(no.screen, /Nothing was reset\./);
  const kept = await ctap(['pin', 'status', '--json', '--device', device]);
  assert.equal((JSON.parse(kept.stdout) as { pinSet: boolean }).pinSet, true);

  // "y": the key (powered up by this command, inside its 10 s reset window) is erased
  const yes = ptyCtap(['reset', '--device', device]);
  t.after(() => yes.kill());
  await yes.waitFor(/This cannot be undone \[y\/N\] /);
  yes.type('y\r');
  assert.equal(await yes.exit(), 0, yes.screen);
  assert.match(yes.screen, /Touch your key to confirm the reset/);
  assert.match(yes.screen, /The key was reset/);
  const gone = await ctap(['pin', 'status', '--json', '--device', device]);
  assert.equal((JSON.parse(gone.stdout) as { pinSet: boolean }).pinSet, false);
});

test('a discoverable ctap login with two accounts: the terminal lists them and the second is chosen', async (t) => {
  const skip = ptyAvailable();
  if (skip) return t.skip(skip);
  const device = `virtual:${join(dir, 'accounts.json')}`;
  const ids = ['YWxpY2U', 'Ym9i']; // base64url of "alice", "bob"
  for (const [i, user] of ['alice', 'bob'].entries()) {
    const r = await ctap(['register', '--rp', 'example.com', '--user', user, '--user-id', ids[i]!, '--resident', '--json', '--device', device]);
    assert.equal(r.code, 0, r.stderr);
  }
  const login = ptyCtap(['login', '--rp', 'example.com', '--json', '--device', device]);
  t.after(() => login.kill());
  await login.waitFor(/Which account\? \[1-2\] /);
  const listed = [...login.screen.matchAll(/^\s*([12])\. (\S+)/gm)].map((m) => [Number(m[1]), m[2]!] as const);
  assert.equal(listed.length, 2, login.screen);
  // without UV the key returns only user.id, so the labels are the ids
  assert.deepEqual(listed.map(([, l]) => l).sort(), [...ids].sort());
  const second = listed.find(([n]) => n === 2)![1];
  login.type('2\r');
  assert.equal(await login.exit(), 0, login.screen);
  const json = login.screen.slice(login.screen.indexOf('{'), login.screen.lastIndexOf('}') + 1);
  const r = JSON.parse(json) as { type: string; response: { userHandle: string } };
  assert.equal(r.type, 'public-key');
  assert.equal(r.response.userHandle, second, 'the assertion is the chosen account\'s');

  // an answer that is no account is a cancel, not a guess
  const bad = ptyCtap(['login', '--rp', 'example.com', '--device', device]);
  t.after(() => bad.kill());
  await bad.waitFor(/Which account\? \[1-2\] /);
  bad.type('7\r');
  const code = await bad.exit();
  assert.notEqual(code, 0, bad.screen);
});

test('Ctrl-C while the key waits for a touch that never comes: exit 6, no hang', async (t) => {
  const skip = ptyAvailable();
  if (skip) return t.skip(skip);
  const port = await freeUdpPort();
  // --presence prompt asks on the server's terminal; nobody answers, so every touch stays pending
  const server = ptyCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--presence', 'prompt']);
  t.after(() => server.kill());
  await server.waitFor(/listening on udp:127\.0\.0\.1:\d+/);

  const reg = ptyCtap(['register', '--rp', 'example.com', '--user', 'carol', '--device', `udp:127.0.0.1:${port}?local=0`, '--timeout', '120000']);
  t.after(() => reg.kill());
  await server.waitFor(/asks for a touch\. Approve\? \[y\/N\] /);
  await reg.waitFor(/Touch your security key/);
  reg.type('\x03');
  const code = await reg.exit();
  assert.equal(code, 6, reg.screen);
  assert.match(reg.screen, /aborted|cancel|interrupt/i);
  assert.doesNotMatch(reg.screen, /\{"type":"public-key"/, 'no credential was made');
});
