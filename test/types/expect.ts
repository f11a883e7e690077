/**
 * Compile-time equality: `expectType<Expected>()(value)` compiles only when the value's type is
 * exactly `Expected`: not a subtype, not a wider type, and not `any` (unless `Expected` is).
 */
export function expectType<Expected>() {
  return <Actual extends Expected>(value: Actual & (IsAny<Actual> extends IsAny<Expected> ? ([Expected] extends [Actual] ? unknown : never) : never)) => value;
}

type IsAny<T> = 0 extends 1 & T ? true : false;
