import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', 'scripts', 'setup.sh');

function setup(env: Record<string, string>, prefix: string[] = []) {
  const [cmd, ...args] = [...prefix, 'bash', script];
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// These tests run on Debian machines that `npm run setup` has already prepared (CI runs it first).
describe('scripts/setup.sh', () => {
  it('is idempotent: a second run installs nothing', () => {
    const r = setup({});
    expect(r.out).toContain('already installed; nothing to do');
    expect(r.code).toBe(0);
  });

  it('refuses a system that is not Debian, saying what to install instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'setup-'));
    const fake = join(dir, 'os-release');
    writeFileSync(fake, 'ID=fedora\nPRETTY_NAME="Fedora Linux 40"\n');
    const r = setup({ SETUP_OS_RELEASE: fake });
    expect(r.code).toBe(1);
    expect(r.out).toContain('supports Debian 12 (bookworm); found Fedora Linux 40');
  });

  it('says it needs root when something must be installed', () => {
    // setpriv drops to the unprivileged 'nobody' user; MESA_MIN_MAJOR=99 makes the installed Mesa too old.
    const r = setup({ MESA_MIN_MAJOR: '99' }, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(r.out).toContain("installing packages needs root: run 'sudo bash scripts/setup.sh'");
    expect(r.code).toBe(1);
  });

  it('says so when apt-get is missing', () => {
    // A PATH with the script's other tools but no apt-get.
    const bin = mkdtempSync(join(tmpdir(), 'setup-bin-'));
    for (const tool of ['bash', 'uname', 'id', 'dpkg-query', 'awk', 'grep', 'sed', 'cat']) {
      symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    }
    const r = setup({ PATH: bin, MESA_MIN_MAJOR: '99' }, []);
    expect(r.out).toContain('apt-get not found: cannot install packages');
    expect(r.code).toBe(1);
  });

  it('rejects unknown options', () => {
    const r = spawnSync('bash', [script, '--bogus'], { encoding: 'utf8' });
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.status).toBe(1);
  });
});
