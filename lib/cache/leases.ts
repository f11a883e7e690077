import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { BatchingSqliteStore } from './sqlite-store.js';

/** A lease not renewed for this long is free to take: its holder is gone or stuck. */
export const LEASE_MS = 10_000;
/** How often a process renews its leases and looks for other processes on the same pipeline. */
export const HEARTBEAT_MS = 400;
/**
 * How long a process that finds others on the pipeline waits before starting tasks: long enough
 * for each of them to notice it at a heartbeat and lease the tasks it is already running.
 */
export const GRACE_MS = HEARTBEAT_MS * 2 + 100;

const TABLE = 'littlepipes_leases';

/**
 * Which process computes which task, when several processes run one pipeline on one cache.
 *
 * Each process that runs the pipeline holds a presence lease. While it is alone it takes no task
 * leases at all, so a single process pays nothing per task. When others are present, a task is
 * run only under a lease (owner and expiry, renewed at every heartbeat); a process that finds a
 * task leased by another waits for that one's result instead of computing it again. A lease whose
 * holder has died (its pid is gone on this host) or stopped renewing is taken over.
 */
export class Leases {
  /** `host:pid:random`, so that a lease says who holds it, and a dead holder can be recognised. */
  readonly owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #sqlite: BatchingSqliteStore;
  readonly #prefix: string;
  readonly #held = new Set<string>();
  #ready: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #others = false;
  /** Called when other processes appear: the caller leases the tasks it is running. */
  onOthers: (() => void) | undefined;

  constructor(sqlite: BatchingSqliteStore, namespace: string) {
    this.#sqlite = sqlite;
    this.#prefix = `${namespace}:`;
  }

  /** Whether other processes are running this pipeline on this cache: tasks then need leases. */
  get shared(): boolean {
    return this.#others;
  }

  /**
   * Announces this process and starts renewing. Resolves once it is safe to start tasks: at
   * once when alone, after GRACE_MS when others are there (so they lease what they run).
   */
  async join(): Promise<void> {
    await this.#table();
    await this.#renew();
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
    if (this.#others) await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
  }

  /** Stops renewing and gives up every lease of this process. */
  async leave(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#held.clear();
    await this.#sqlite.query(`DELETE FROM ${TABLE} WHERE owner = ?`, this.owner).catch(() => {});
  }

  /** Takes the lease of a task when it is free (or its holder is gone); true when this process holds it. */
  async acquire(task: string): Promise<boolean> {
    const key = `${this.#prefix}task:${task}`;
    const now = Date.now();
    const [current] = await this.#sqlite.query(`SELECT owner, expires FROM ${TABLE} WHERE key = ?`, key) as { owner: string; expires: number }[];
    if (current && current.owner !== this.owner && current.expires > now && isAlive(current.owner)) return false;
    // Only a free, expired, dead or own lease is replaced; of two processes racing here, one wins.
    await this.#sqlite.query(
      `INSERT INTO ${TABLE} (key, owner, expires) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
       WHERE ${TABLE}.owner = ? OR ${TABLE}.expires <= ? OR ${TABLE}.owner = ?`,
      key, this.owner, now + LEASE_MS, current?.owner ?? this.owner, now, this.owner,
    );
    const [after] = await this.#sqlite.query(`SELECT owner FROM ${TABLE} WHERE key = ?`, key) as { owner: string }[];
    if (after?.owner !== this.owner) return false;
    this.#held.add(key);
    return true;
  }

  /** Whether another live process holds the task's lease now. */
  async heldElsewhere(task: string): Promise<boolean> {
    const [current] = await this.#sqlite.query(`SELECT owner, expires FROM ${TABLE} WHERE key = ?`, `${this.#prefix}task:${task}`) as { owner: string; expires: number }[];
    return current !== undefined && current.owner !== this.owner && current.expires > Date.now() && isAlive(current.owner);
  }

  /** Gives a task's lease back (once its result is committed, so a waiter finds it). */
  async release(task: string): Promise<void> {
    const key = `${this.#prefix}task:${task}`;
    if (!this.#held.delete(key)) return;
    await this.#sqlite.query(`DELETE FROM ${TABLE} WHERE key = ? AND owner = ?`, key, this.owner).catch(() => {});
  }

  #table(): Promise<void> {
    this.#ready ??= this.#sqlite
      .query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires INTEGER NOT NULL)`)
      .then(() => {});
    return this.#ready;
  }

  async #beat(): Promise<void> {
    try {
      const wasShared = this.#others;
      await this.#renew();
      if (this.#others && !wasShared) this.onOthers?.();
    } catch {
      // A missed heartbeat is harmless: the lease lasts many of them.
    }
  }

  /** Renews this process's presence and leases, and looks at who else is present. */
  async #renew(): Promise<void> {
    const now = Date.now();
    await this.#sqlite.query(
      `INSERT INTO ${TABLE} (key, owner, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET expires = excluded.expires`,
      `${this.#prefix}presence:${this.owner}`, this.owner, now + LEASE_MS,
    );
    if (this.#held.size > 0) {
      await this.#sqlite.query(`UPDATE ${TABLE} SET expires = ? WHERE owner = ? AND key IN (SELECT value FROM json_each(?))`, now + LEASE_MS, this.owner, JSON.stringify([...this.#held]));
    }
    const present = await this.#sqlite.query(
      `SELECT owner FROM ${TABLE} WHERE substr(key, 1, length(?)) = ? AND owner != ? AND expires > ?`,
      `${this.#prefix}presence:`, `${this.#prefix}presence:`, this.owner, now,
    ) as { owner: string }[];
    const dead = present.filter((row) => !isAlive(row.owner)).map((row) => row.owner);
    if (dead.length > 0) await this.#sqlite.query(`DELETE FROM ${TABLE} WHERE owner IN (SELECT value FROM json_each(?))`, JSON.stringify(dead));
    // Once shared, a run stays shared: another process may come back at any moment.
    this.#others ||= present.length > dead.length;
  }
}

/** False when the owner was a process on this host that no longer exists; true when it may be alive. */
function isAlive(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== os.hostname()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
