// What run returns is cached: a function, or a promise of one, is a compile error where the type
// says so; data, and values of a format defined with defineFormat, compile.
import { Pipeline, Task, defineFormat } from 'littlepipes';

// @ts-expect-error a function cannot be cached
new Task('Callback').process('run', () => () => 1);
// @ts-expect-error nor a promise of one
new Task('Later').process('run', async () => () => 1);
// @ts-expect-error nor a result that may be one
new Task('Maybe').process('run', (): number | (() => number) => 1);

// Other processes may return functions: only run's result is cached.
new Task('Helpers').process('make', () => (x: number) => x * 2).process('run', (t) => t.make()(21));

// Data compiles, in a promise too.
new Task('Rows').process('run', async () => [{ id: 1, when: new Date(), tags: new Set(['a']) }]);

// A value of a class its format stores compiles, as plain data does.
class Money {
  constructor(readonly cents: number, readonly currency: string) {}
  add(other: Money): Money {
    return new Money(this.cents + other.cents, this.currency);
  }
}
const money = defineFormat({
  name: 'money',
  version: 1,
  handles: (value): value is Money => value instanceof Money,
  encode: (value) => Buffer.from(JSON.stringify([value.cents, value.currency])),
  decode: (bytes) => {
    const [cents, currency] = JSON.parse(Buffer.from(bytes).toString()) as [number, string];
    return new Money(cents, currency);
  },
});
const price = new Task('Price').process('run', () => new Money(1250, 'EUR'));
new Pipeline('Shop', { formats: [money] }).add(price);

// An any result is not checked: the compiler knows nothing of it.
new Task('Anything').process('run', (): any => () => 1);
