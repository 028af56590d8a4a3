/** parseCommandLine: operands that start with `-` (base64url IDs) where the command expects one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';
import { bioCommand } from '../../src/cli/commands/bio.js';
import { credsCommand } from '../../src/cli/commands/creds.js';
import type { CommandDef } from '../../src/cli/context.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';

const parse = (cmd: CommandDef, argv: string[]) => parseCommandLine(argv, cmd.options, cmd.maxOperands);

/** A 32-byte credential ID whose base64url starts with `-` (0xf8 = 111110 00: the 63rd digit). */
function dashId(second: number): string {
  const bytes = new Uint8Array(32).map((_, i) => (i * 37 + second) & 0xff);
  bytes[0] = 0xf8;
  bytes[1] = second;
  const id = base64urlEncode(bytes);
  assert.equal(id[0], '-');
  return id;
}

test('creds delete|update ID: an ID that starts with "-" is the operand, wherever the flags are', () => {
  const id = dashId(0xab);
  let p = parse(credsCommand, ['creds', 'delete', id, '--yes', '--device', 'virtual']);
  assert.deepEqual(p.positionals, ['creds', 'delete', id]);
  assert.equal(p.globals.yes, true);
  assert.equal(p.globals.device, 'virtual');
  p = parse(credsCommand, ['--device', 'virtual', '--json', 'creds', 'update', id, '--name', 'x']);
  assert.deepEqual(p.positionals, ['creds', 'update', id]);
  assert.equal(p.values['name'], 'x');
  assert.equal(p.globals.json, true);
  // a short-looking ID (-q3x...) is not taken apart as -q -3 -x
  p = parse(credsCommand, ['creds', 'delete', '-q3xAbC_9', '-y']);
  assert.deepEqual(p.positionals, ['creds', 'delete', '-q3xAbC_9']);
  assert.equal(p.globals.yes, true);
  // an ID that starts with "--" too
  p = parse(credsCommand, ['creds', 'delete', '--Zx_0a9']);
  assert.deepEqual(p.positionals, ['creds', 'delete', '--Zx_0a9']);
});

test('bio rename ID NAME and bio remove ID take "-" operands', () => {
  let p = parse(bioCommand, ['bio', 'rename', '-AbC', 'thumb']);
  assert.deepEqual(p.positionals, ['bio', 'rename', '-AbC', 'thumb']);
  p = parse(bioCommand, ['bio', 'rename', '-w', '-left']);
  assert.deepEqual(p.positionals, ['bio', 'rename', '-w', '-left']);
  p = parse(bioCommand, ['bio', 'remove', '-w', '--yes']);
  assert.deepEqual(p.positionals, ['bio', 'remove', '-w']);
  assert.equal(p.globals.yes, true);
});

test('"--" and --opt=ID keep working; known flags stay flags', () => {
  const id = dashId(0x11);
  let p = parse(credsCommand, ['creds', 'delete', '--yes', '--', id]);
  assert.deepEqual(p.positionals, ['creds', 'delete', id]);
  p = parse(credsCommand, ['creds', 'update', '--name=-odd', '--', id]);
  assert.equal(p.values['name'], '-odd');
  assert.deepEqual(p.positionals, ['creds', 'update', id]);
  const login = { allow: { type: 'string', multiple: true } } as const;
  p = parseCommandLine(['login', `--allow=${id}`], login);
  assert.deepEqual(p.values['allow'], [id]);
  // known global flags before the ID are still flags
  p = parse(credsCommand, ['creds', 'delete', '-y', '-v', id]);
  assert.deepEqual(p.positionals, ['creds', 'delete', id]);
  assert.equal(p.globals.verbose, true);
});

test('unknown real options are still usage errors', () => {
  const bad = (cmd: CommandDef, argv: string[], re: RegExp): void => {
    assert.throws(() => parse(cmd, argv), (e: unknown) => e instanceof UsageError && re.test(e.message));
  };
  // reads like an option name: an unknown option, even where an ID is expected
  bad(credsCommand, ['creds', 'delete', '--frobnicate'], /Unknown option '--frobnicate'.*"--"/);
  bad(credsCommand, ['creds', 'delete', dashId(1), '--frobnicate'], /Unknown option '--frobnicate'/);
  // no operand expected any more: a "-" word is an unknown option
  bad(credsCommand, ['creds', 'delete', dashId(2), '-q3x'], /Unknown option '-q'/);
  bad(credsCommand, ['creds', 'list', '-q3x'], /Unknown option '-q'/);
  bad(bioCommand, ['bio', 'list', '-AbC'], /Unknown option '-A'/);
  // not base64url (has "="): an option with a value, not an ID
  bad(credsCommand, ['creds', 'delete', '--Zx=1'], /Unknown option '--Zx'/);
  // a command that declares no operands lets nothing through
  bad({ ...credsCommand, maxOperands: undefined }, ['creds', 'delete', '-q3x'], /Unknown option '-q'/);
});
