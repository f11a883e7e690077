import { hashBytes } from './hash.js';
import { type SyntaxNode, TYPE_KEYS, TYPE_WRAPPERS, isNode } from './references.js';

/**
 * A hash of a node's code that changes only when what it does can change. Whitespace, comments
 * and redundant parentheses are not in the tree (modules are parsed without them); positions,
 * types and TypeScript-only forms are left out; literals count by their kind and value, not by
 * how they are spelled: `'a'` and `"a"`, `1000`, `1_000` and `0x3e8`, `{ 'a': 1 }` and `{ a: 1 }`,
 * `o['a']` and `o.a` are the same code, while `'1'` and `1` are not.
 */
export function hashCode(node: SyntaxNode): string {
  return hashBytes(JSON.stringify(node, canonicalField));
}

/** Fields that only TypeScript reads, besides types: modifiers erased from the JavaScript. */
const ERASED_KEYS = new Set([...TYPE_KEYS, 'accessibility', 'readonly', 'override', 'definite', 'abstract']);

/** Declarations TypeScript erases entirely. */
const TYPE_ONLY = new Set([
  'TSTypeAliasDeclaration',
  'TSInterfaceDeclaration',
  'TSDeclareFunction',
  'TSIndexSignature',
  'TSAbstractMethodDefinition',
  'TSAbstractPropertyDefinition',
  'TSAbstractAccessorProperty',
  'TSNamespaceExportDeclaration',
]);

/** Members whose key is a name however it is written (see keyed). */
const KEYED = new Set(['Property', 'MethodDefinition', 'PropertyDefinition', 'AccessorProperty', 'ImportAttribute']);

/** `optional` is `?.` on these, which runs; elsewhere (`x?: T`) it is a type. */
const CHAINS = new Set(['MemberExpression', 'CallExpression']);

/** The JSON replacer that writes a node as its canonical form (see hashCode). */
function canonicalField(this: Record<string, unknown>, key: string, value: unknown): unknown {
  if (key === 'start' || key === 'end' || key === 'raw' || ERASED_KEYS.has(key)) return undefined;
  if (key === 'optional' && !CHAINS.has(this.type as string)) return undefined;
  if (Array.isArray(value)) return value.some(isTypeOnly) ? value.filter((item) => !isTypeOnly(item)) : value;
  if (!isNode(value)) return value;
  return isTypeOnly(value) ? null : canonicalNode(value);
}

/** A node as it is hashed: wrappers of types removed, literals as their value. */
function canonicalNode(value: SyntaxNode): unknown {
  let node = value;
  while (TYPE_WRAPPERS.has(node.type)) node = node.expression as SyntaxNode;
  switch (node.type) {
    case 'Literal':
      return literal(node);
    case 'TemplateLiteral': {
      // Untagged, a template is its cooked text: `\x41` and `A` are the same string.
      const cooked = (node.quasis as SyntaxNode[]).map((quasi) => (quasi.value as { cooked: string }).cooked);
      const expressions = node.expressions as SyntaxNode[];
      return expressions.length === 0 ? { type: 'Literal', kind: 'string', value: cooked[0] } : { type: 'TemplateLiteral', cooked, expressions };
    }
    case 'TaggedTemplateExpression': {
      // A tag reads the raw text too (String.raw`\x41` is not String.raw`A`).
      const quasi = node.quasi as SyntaxNode;
      const raw = (quasi.quasis as SyntaxNode[]).map((element) => (element.value as { raw: string }).raw);
      return { type: node.type, tag: node.tag, quasi: { type: 'TaggedTemplate', rawText: raw, expressions: quasi.expressions } };
    }
    case 'MemberExpression': {
      // `o.a`, `o['a']` and `o["a"]` read the same property; `o[a]` reads a variable's.
      const property = node.property as SyntaxNode;
      const name = (node.computed ? property.type === 'Literal' : property.type === 'Identifier') ? propertyName(property) : undefined;
      return name === undefined ? node : { ...node, computed: false, property: { type: 'Key', name } };
    }
    case 'TSEnumMember': {
      const name = node.computed ? undefined : propertyName(node.id as SyntaxNode);
      return name === undefined ? node : { ...node, id: { type: 'Key', name } };
    }
    case 'ArrowFunctionExpression':
      // `(x) => x * 2` is `(x) => { return x * 2; }`.
      return node.expression ? { ...node, expression: false, body: { type: 'BlockStatement', body: [{ type: 'ReturnStatement', argument: node.body }] } } : node;
    default:
      return KEYED.has(node.type) ? keyed(node) : node;
  }
}

/**
 * A member with its key as the name it stands for: `a`, `'a'`, `"a"` and `['a']` are one name,
 * and `{ a }` is `{ a: a }`. Except where a bare name means more: `{ __proto__: p }` sets the
 * prototype where `{ ['__proto__']: p }` and `{ __proto__ }` define a property, and a class's
 * `constructor()` is its constructor where `['constructor']()` is a method.
 */
function keyed(node: SyntaxNode): SyntaxNode {
  const key = node.key as SyntaxNode;
  const name = !node.computed || key.type === 'Literal' ? propertyName(key) : undefined;
  if (name === undefined || (node.computed && name === (node.type === 'Property' ? '__proto__' : 'constructor'))) return node;
  const shorthand = node.type === 'Property' ? { shorthand: node.shorthand === true && name === '__proto__' } : {};
  return { ...node, computed: false, key: { type: 'Key', name }, ...shorthand } as SyntaxNode;
}

/** A literal as its kind and value: a string, number, bigint, boolean, null or regex. */
function literal(node: SyntaxNode): { type: 'Literal'; kind: string; value: unknown } {
  const regex = node.regex as { pattern: string; flags: string } | undefined;
  // Flags in any order make the same regex.
  if (regex) return { type: 'Literal', kind: 'regex', value: `/${regex.pattern}/${[...regex.flags].sort().join('')}` };
  const { value } = node;
  if (typeof value === 'bigint' || typeof node.bigint === 'string') return { type: 'Literal', kind: 'bigint', value: String(typeof value === 'bigint' ? value : node.bigint) };
  // As text, so Infinity (1e999) does not become JSON's null.
  if (typeof value === 'number') return { type: 'Literal', kind: 'number', value: String(value) };
  return { type: 'Literal', kind: value === null ? 'null' : typeof value, value };
}

/**
 * The property key a non-computed name or a literal stands for (`a`, `'a'`, `1` as `'1'`), as
 * JavaScript converts it; undefined for other keys (`#private`, a computed expression).
 */
function propertyName(key: SyntaxNode): string | undefined {
  if (key.type === 'Identifier') return key.name as string;
  if (key.type !== 'Literal' || key.regex) return undefined;
  const { value } = key;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
}

/** Whether a node is erased by TypeScript: nothing of it runs. */
function isTypeOnly(value: unknown): boolean {
  if (!isNode(value)) return false;
  if (TYPE_ONLY.has(value.type) || value.declare === true || value.importKind === 'type' || value.exportKind === 'type') return true;
  // `function f(this: T)`: an identifier named `this` can only be TypeScript's this-parameter.
  if (value.type === 'Identifier' && value.name === 'this') return true;
  // An overload signature of a method.
  return value.type === 'MethodDefinition' && (value.value as SyntaxNode).type === 'TSEmptyBodyFunctionExpression';
}
