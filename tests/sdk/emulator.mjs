// Starts `keyward-emulator` (built by cargo) on a free port and reads its URL and seeded credentials
// from the banner it prints on stdout. Shared by the SDK tests; it holds no vendor logic.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target');
const binary = process.env.KEYWARD_EMULATOR ?? join(targetDir, 'debug', 'keyward-emulator');

/** `{ url, credentials, stop() }` for a fresh emulator of `backend` (no faults, no seeded keys). */
export async function startEmulator(backend) {
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run cargo build -p keyward-emulators --bin keyward-emulator`);
  }
  const child = spawn(binary, ['--backend', backend, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const banner = await new Promise((resolveBanner, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner from ${backend} emulator within 20 s:\n${out}${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${backend} emulator exited (${code}) before it was ready:\n${out}${stderr}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      // The banner ends with this line, after the URL and the credentials.
      if (out.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolveBanner(out);
      }
    });
  });
  const url = banner.match(/emulator on (http:\/\/\S+)/)?.[1];
  if (!url) throw new Error(`no URL in the emulator banner:\n${banner}`);
  const credentials = {};
  for (const [, label, value] of banner.matchAll(/^ {2}(\w+): (.*)$/gm)) credentials[label] = value.trim();
  const stop = () => new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGINT');
  });
  return { url, credentials, stop };
}
