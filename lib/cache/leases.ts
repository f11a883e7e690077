import { cryptoModule } from '../deferred-packages.js';
import fs from 'node:fs';
import os from 'node:os';

/** A lease not renewed for this long is free to take: its holder is gone or stuck. */
export const LEASE_MS = 10_000;
/** How often a process renews its leases and looks for other processes on the same pipeline. */
export const HEARTBEAT_MS = 400;
/**
 * How long a process that finds others on the pipeline waits before starting tasks: long enough
 * for each of them to notice it at a heartbeat and lease the tasks it is already running.
 */
export const GRACE_MS = HEARTBEAT_MS * 2 + 100;

/**
 * Where leases live: one implementation per kind of store (the local SQLite file, Redis,
 * PostgreSQL), each atomic in its own way. Keys are already namespaced by the pipeline; an
 * expiry is always judged by the store's clock where the store has one, so that machines whose
 * clocks disagree still agree on who holds what.
 */
export interface LeaseBackend {
  /** The owner of the lease under `key` when it has not expired; undefined when it is free. */
  holder(key: string): Promise<string | undefined>;
  /**
   * Gives the lease to `owner` for `ms` when it is free, expired, already `owner`'s, or held by
   * `replacing` (a holder known to be dead). Of processes racing here, exactly one wins.
   * @returns whether `owner` holds it now
   */
  take(key: string, owner: string, ms: number, replacing: string | undefined): Promise<boolean>;
  /**
   * Renews `owner`'s presence on the pipeline `namespace` and the leases of `held` that it still
   * holds, for `ms`; returns the owners of the other presences that have not expired.
   */
  beat(namespace: string, owner: string, held: readonly string[], ms: number): Promise<string[]>;
  /** Forgets owners known to be dead: their presence and whatever leases it can find of theirs. */
  forget(namespace: string, owners: readonly string[]): Promise<void>;
  /** Gives back the lease under `key` if `owner` holds it. */
  release(key: string, owner: string): Promise<void>;
  /** Gives back `owner`'s presence and its leases (`held` lists those it knows of). */
  leave(namespace: string, owner: string, held: readonly string[]): Promise<void>;
}

/**
 * Which process computes which task, when several processes run one pipeline on one cache: on
 * one machine (the local SQLite file) or on many (a shared Redis or PostgreSQL store).
 *
 * Each process that runs the pipeline holds a presence lease. While it is alone it takes no task
 * leases at all, so a single process pays nothing per task. When others are present, a task is
 * run only under a lease (owner and expiry, renewed at every heartbeat); a process that finds a
 * task leased by another waits for that one's result instead of computing it again. A lease whose
 * holder has died (its pid is gone, seen from the same host and pid namespace) or stopped
 * renewing (any host: LEASE_MS after its last heartbeat) is taken over.
 */
export class Leases {
  /** `host:pid:random`, so that a lease says who holds it, and a dead holder can be recognised. */
  readonly owner = `${thisHost()}:${process.pid}:${cryptoModule().randomUUID().slice(0, 8)}`;
  readonly #backend: Promise<LeaseBackend>;
  readonly #namespace: string;
  readonly #held = new Set<string>();
  #heartbeat: NodeJS.Timeout | undefined;
  #others = false;
  /** Called when other processes appear: the caller leases the tasks it is running. */
  onOthers: (() => void) | undefined;

  /** `backend` may still be opening (a store reached over the network); its failure is the caller's error. */
  constructor(backend: LeaseBackend | Promise<LeaseBackend>, namespace: string) {
    this.#backend = Promise.resolve(backend);
    this.#backend.catch(() => {}); // Reported by the first method awaiting it.
    this.#namespace = namespace;
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
    await this.#renew();
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
    if (this.#others) await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
  }

  /** Stops renewing and gives up every lease of this process. */
  async leave(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const held = [...this.#held];
    this.#held.clear();
    try {
      await (await this.#backend).leave(this.#namespace, this.owner, held);
    } catch {
      // Leases left behind expire on their own.
    }
  }

  /** Takes the lease of a task when it is free (or its holder is gone); true when this process holds it. */
  async acquire(task: string): Promise<boolean> {
    const backend = await this.#backend;
    const key = this.#key(task);
    const current = await backend.holder(key);
    if (current !== undefined && current !== this.owner && isAlive(current)) return false;
    if (!(await backend.take(key, this.owner, LEASE_MS, current))) return false;
    this.#held.add(key);
    return true;
  }

  /** Whether another live process holds the task's lease now. */
  async heldElsewhere(task: string): Promise<boolean> {
    const current = await (await this.#backend).holder(this.#key(task));
    return current !== undefined && current !== this.owner && isAlive(current);
  }

  /** Gives a task's lease back (once its result is committed, so a waiter finds it). */
  async release(task: string): Promise<void> {
    const key = this.#key(task);
    if (!this.#held.delete(key)) return;
    await (await this.#backend).release(key, this.owner).catch(() => {});
  }

  #key(task: string): string {
    return `${this.#namespace}:task:${task}`;
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
    const backend = await this.#backend;
    const present = await backend.beat(this.#namespace, this.owner, [...this.#held], LEASE_MS);
    const dead = present.filter((owner) => !isAlive(owner));
    if (dead.length > 0) await backend.forget(this.#namespace, dead);
    // Once shared, a run stays shared: another process may come back at any moment.
    this.#others ||= present.length > dead.length;
  }
}

/**
 * This machine's name, plus on Linux a short hash of the boot and of the pid namespace: two
 * containers (or two machines) may share a hostname, and only a process in the same namespace
 * of the same boot can tell from a pid whether a holder still runs.
 */
let hostName: string | undefined;

/** This host's name, made on first use (it hashes with node:crypto, which importing littlepipes does not load). */
function thisHost(): string {
  return (hostName ??= hostId());
}

function hostId(): string {
  const name = os.hostname().replaceAll(':', '-');
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pids = fs.readlinkSync('/proc/self/ns/pid');
    return `${name}~${cryptoModule().createHash('sha256').update(`${boot} ${pids}`).digest('hex').slice(0, 8)}`;
  } catch {
    return name;
  }
}

/** False when the owner was a process of this host that no longer exists; true when it may be alive. */
function isAlive(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== thisHost()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
