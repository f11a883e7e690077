import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Real database servers for the tests of shared stores and distributed runs: each test file
 * starts its own private Redis or PostgreSQL on a free loopback port, with its data in a
 * temporary folder, and stops it when it is done. Nothing of the machine's own servers (if any)
 * is used or touched. The binaries come from Debian's redis-server and postgresql packages,
 * which scripts/setup-test-tools.sh installs.
 */
export interface TestServer {
  /** The URL a client connects to, e.g. `redis://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts connections on the port, or rejects after `timeoutMs`. */
async function waitForPort(port: number, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what} did not accept connections on port ${port} within ${timeoutMs} ms`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to a process, and SIGKILL if it is still there after `graceMs`; resolves once it is gone. */
async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(20);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await stopProcess(child.pid, 'SIGTERM', 5000);
  await exited;
}

/** A private redis-server on a free port, without persistence. */
export async function startRedis(): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`redis-server could not start (${error.message}); run scripts/setup-test-tools.sh`))));
  await Promise.race([waitForPort(port, 'redis-server'), failed]);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian keeps PostgreSQL's server programs out of PATH, in a folder per major version. */
function postgresBin(program: string): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const candidate = path.join(root, version, 'bin', program);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`PostgreSQL's ${program} was not found under ${root}; run scripts/setup-test-tools.sh`);
}

/**
 * A private PostgreSQL cluster on a free port, trusting local connections, with a database
 * `littlepipes`. PostgreSQL refuses to run as root, so as root it runs as the postgres user.
 */
export async function startPostgres(): Promise<TestServer> {
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'littlepipes-postgres-'));
  const data = path.join(dir, 'data');
  const user = asRoot ? 'postgres' : os.userInfo().username;
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const run = (program: string, args: string[]) =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', postgresBin(program), ...args]] as const : [postgresBin(program), args] as const;
  const [initdb, initArgs] = run('initdb', ['-D', data, '-A', 'trust', '-U', user, '--no-sync', '-E', 'UTF8']);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const [postgres, serverArgs] = run('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  const child = spawn(postgres, serverArgs, { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`postgres could not start (${error.message})`))));
  await Promise.race([waitForPort(port, 'postgres'), failed]);
  const [createdb, createArgs] = run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', user, 'littlepipes']);
  // The port accepts connections a moment before the server accepts logins.
  for (let tries = 0; ; tries++) {
    try {
      execFileSync(createdb, createArgs, { stdio: 'pipe' });
      break;
    } catch (error) {
      if (tries > 50) throw error;
      await sleep(100);
    }
  }
  return {
    url: `postgresql://${user}@127.0.0.1:${port}/littlepipes`,
    port,
    async stop() {
      // SIGINT is PostgreSQL's fast shutdown. It goes to the server itself, named in its pid
      // file: runuser, which started it, does not pass signals on.
      const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      await stopProcess(pid, 'SIGINT', 10_000);
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
