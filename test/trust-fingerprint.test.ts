import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { SourceModule, prepareParsing } from '../lib/fingerprint/source-module.js';

before(() => prepareParsing());

/** The code hash of a module's text, as a task's fingerprint takes it. */
function codeOf(text: string, file = 'module.ts'): string {
  const module = new SourceModule(file, text);
  return module.hashOf(module.program);
}

/** Pairs of spellings that run the same: the fingerprint must not tell them apart. */
const SAME: [string, string, string][] = [
  ['quote style', `const a = 'x';`, `const a = "x";`],
  ['escapes in strings', `const a = 'it\\'s \\x41';`, `const a = "it's A";`],
  ['digit separators', 'const n = 1000;', 'const n = 1_000;'],
  ['hexadecimal numbers', 'const n = 0x10;', 'const n = 16;'],
  ['other number spellings', 'const n = [1.50, .5, 1e3, 0b11, 0o7, 1.];', 'const n = [1.5, 0.5, 1000, 3, 7, 1];'],
  ['bigint spellings', 'const n = 0x10n;', 'const n = 16n;'],
  ['redundant parentheses', 'const b = ((a * 2)) + (f(a));', 'const b = a * 2 + f(a);'],
  ['where an IIFE closes', 'const c = (function () { return 1; })();', 'const c = (function () { return 1; }());'],
  ['`as`', 'const d = (x as number) + 1;', 'const d = x + 1;'],
  ['`satisfies`', 'const e = { a: 1 } satisfies Record<string, number>;', 'const e = { a: 1 };'],
  ['`!`', 'const g = x!.y!;', 'const g = x.y;'],
  ['an angle-bracket assertion', 'const h = <number>x;', 'const h = x;'],
  ['an instantiation expression', 'const i = make<string>;', 'const i = make;'],
  ['quoted property names', `const o = { 'a': 1, "b-c": 2, '1': 3 };`, `const o = { a: 1, 'b-c': 2, 1: 3 };`],
  ['quoted method names', `class K { 'm'() {} static "n" = 1; }`, 'class K { m() {} static n = 1; }'],
  ['a member read with a literal key', `const v = o['a'] + o[0];`, `const v = o.a + o['0'];`],
  ['a template without substitutions', 'const t = `plain`;', `const t = 'plain';`],
  ['escapes in a template', 'const t = `\\x41${b}`;', 'const t = `A${b}`;'],
  ['the order of regex flags', 'const r = /a/gi;', 'const r = /a/ig;'],
  ['TypeScript-only declarations', 'function f() { interface I { a: string } type T = I; return 1; }', 'function f() { return 1; }'],
  ['TypeScript-only modifiers', 'class K { private readonly z!: number; constructor(public q: number) {} m(y?: number) {} }', 'class K { z; constructor(public q) {} m(y) {} }'],
  ['a `this` parameter and overloads', 'function f(x: string): void;\nfunction f(this: Window, x: string) { return x; }', 'function f(x) { return x; }'],
  ['object shorthand', 'const o = { a, b: b };', 'const o = { a: a, b };'],
  ['a computed key that is a literal', `const o = { ['c']: 1, [2]: 3 }; class K { ['m']() {} }`, 'const o = { c: 1, 2: 3 }; class K { m() {} }'],
  ['an arrow body that only returns', 'const f = (x) => { return x * 2; };', 'const f = (x) => x * 2;'],
  ['quoted import attribute keys', `import j from './j.json' with { 'type': 'json' };`, `import j from './j.json' with { type: "json" };`],
  ['quoted enum members', `enum E { 'a' = 1, "b" }`, 'enum E { a = 1, b }'],
  ['type-only imports and exports', `import type { A } from './a';\nimport { type B, c } from './b';\nexport type { A };\nexport { c };`, `import { c } from './b';\nexport { c };`],
];

/** Pairs that run differently: the fingerprint must tell them apart. */
const DIFFERENT: [string, string, string][] = [
  ['a string and a number', `const a = '1';`, 'const a = 1;'],
  ['two numbers', 'const a = 1;', 'const a = 2;'],
  ['a bigint and a number', 'const a = 1n;', 'const a = 1;'],
  ['a boolean and its text', 'const a = true;', `const a = 'true';`],
  ['null and its text', 'const a = null;', `const a = 'null';`],
  ['an infinite number and null', 'const a = 1e999;', 'const a = null;'],
  ['regex flags', 'const r = /a/g;', 'const r = /a/i;'],
  ['a regex and its text', 'const r = /a/;', `const r = '/a/';`],
  ['raw text a tag reads', 'const t = String.raw`\\x41`;', 'const t = String.raw`A`;'],
  ['a computed member and a named one', 'const v = o[a];', 'const v = o.a;'],
  ['a computed key and a named one', 'const o = { [a]: 1 };', 'const o = { a: 1 };'],
  ['optional chaining', 'const v = a?.b;', 'const v = a.b;'],
  ['an optional call', 'const v = f?.();', 'const v = f();'],
  ['parentheses that end a chain', 'const v = (a?.b).c;', 'const v = a?.b.c;'],
  ['a directive and an expression', `'use strict';\nconst a = 1;`, `('use strict');\nconst a = 1;`],
  ['a __proto__ setter and a computed key', 'const o = { __proto__: p };', `const o = { ['__proto__']: p };`],
  ['a __proto__ shorthand and a __proto__ setter', 'const o = { __proto__ };', 'const o = { __proto__: __proto__ };'],
  ['an arrow body that does not return', 'const f = (x) => { x * 2; };', 'const f = (x) => x * 2;'],
  ['two enum members', 'enum E { a = 1 }', 'enum E { b = 1 }'],
  ['a computed class key and a constructor', `class K { constructor() {} }`, `class K { ['constructor']() {} }`],
  ['a declared field and a field', 'class K { declare w: string; }', 'class K { w: string; }'],
  ['a parameter property and a parameter', 'class K { constructor(public q: number) {} }', 'class K { constructor(q: number) {} }'],
  ['a value import and a type import', `import { c } from './b';\nexport { c };`, `import type { c } from './b';\nexport { c };`],
];

for (const [what, one, other] of SAME) {
  test(`${what} cannot change behaviour, so it does not change the code's fingerprint`, () => {
    assert.equal(codeOf(one), codeOf(other), `${one}\n${other}`);
  });
}

for (const [what, one, other] of DIFFERENT) {
  test(`${what} run differently, so their fingerprints differ`, () => {
    assert.notEqual(codeOf(one), codeOf(other), `${one}\n${other}`);
  });
}
