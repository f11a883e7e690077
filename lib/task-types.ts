import type { AnyOf } from './graph/composition.js';
import type { AnyTask, Task } from './task.js';

// How a task's definition reaches the compiler: what `t.result` returns for each dependency,
// what `t.params` holds, and what `run` may return. Types only; the run checks the same at run time.

/** An item of `dependencies` or `requires`: a task's name, the Task itself (which stands for its name), or an `anyOf(...)` gate. */
export type DependencyItem = string | AnyTask | AnyOf;

/** The result type of a task (never for what is not a task). */
export type ResultOf<T> = T extends Task<string, any, infer R, any, any, any> ? R : never;

/** The result of a task whose run returns `Returned`: that, awaited, or the array of it for a task that maps. */
export type RunResult<Returned, Mapping> = Mapping extends undefined ? Awaited<Returned> : Awaited<Returned>[];

/** The results a task reads by name, from its dependency list: a Task's result type, `unknown` for a name. A list whose items the compiler cannot know (a `string[]`) gives every name `unknown`. */
export type UpstreamResults<List extends readonly unknown[]> = { [Item in ListMember<List[number]> as NameOf<Item>]: ItemResult<Item> };

/** An anyOf gate stands for its members. */
type ListMember<Item> = Item extends AnyOf<infer Members> ? Members[number] : Item;

/** What `t.result` gives for an item of a dependency list: a task's result type, `unknown` for a name. */
type ItemResult<Item> = Item extends Task<string, any, infer R, any, any, any> ? R : unknown;

declare const READS: unique symbol;

/**
 * What a task reads, as its type keeps it from its first process on: each dependency's result
 * type by name, flat. A task's type then holds no other task's type, whose own would hold theirs,
 * and so on up the graph, which the compiler would walk again at every comparison: a type for the
 * compiler only, never a value.
 */
export interface Reads<Upstream> {
  readonly [READS]: Upstream;
}

/** A dependency list as a Task's type keeps it once a process is added: Reads of its results by name (written out here, so that the type shows them). */
export type ReadsOf<Dependencies> = Dependencies extends Reads<any>
  ? Dependencies
  : Dependencies extends readonly unknown[]
    ? Reads<{ [Item in ListMember<Dependencies[number]> as NameOf<Item>]: ItemResult<Item> }>
    : never;

/** The results a task reads by name, from its dependency list as given or as Reads. */
export type UpstreamOf<Dependencies> = Dependencies extends Reads<infer Upstream> ? Upstream : Dependencies extends readonly unknown[] ? UpstreamResults<Dependencies> : never;

/** The name an item of a dependency list stands for. */
export type NameOf<Item> = Item extends string ? Item : Item extends { readonly name: infer N extends string } ? N : never;

/**
 * The names `t.result<T>(name)` may annotate with `T`: those whose result the compiler does not
 * know (given by name, or a task whose result is `unknown`), and those whose result is a `T`
 * (`T` may widen it, never change it).
 */
export type NamesTypedAs<Upstream, T> = { [K in keyof Upstream]: unknown extends Upstream[K] ? K : [Upstream[K]] extends [T] ? K : never }[keyof Upstream] & string;

/** A JSON value that cannot be changed: what a param holds, frozen. */
export type FrozenJson = string | number | boolean | null | readonly FrozenJson[] | { readonly [key: string]: FrozenJson };

/** `t.params` of a task whose param types the compiler does not know. */
export type AnyParams = { readonly [key: string]: FrozenJson };

/**
 * `t.params` of a task whose `params` option is `P`: each value as the JSON type it was declared
 * with (a number stays a number, whatever number a profile gives), read-only, as params are frozen.
 * A declared `null` or empty array says nothing of what a profile may put there.
 */
export type TaskParams<P> = { readonly [K in keyof P]: ParamValue<P[K]> };

type ParamValue<V> = unknown extends V
  ? FrozenJson
  : V extends null
    ? FrozenJson
    : V extends readonly (infer Item)[]
      ? [Item] extends [never] ? readonly FrozenJson[] : readonly ParamValue<Item>[]
      : V extends object
        ? TaskParams<V>
        : V;

type AnyFunction = (...args: any[]) => any;

/**
 * What the return type of `run` must also be: `unknown` (no constraint) for what can be cached,
 * and a type no function satisfies for a function or a promise of one, which the cache cannot
 * keep (one member of a union is enough). An `any` result is not checked.
 */
export type CacheableResult<R> = 0 extends 1 & R
  ? unknown
  : [Extract<Awaited<R>, AnyFunction>] extends [never] ? unknown : { 'a function cannot be cached: return the data it would compute': never };
