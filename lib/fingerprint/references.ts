/** A node of the ESTree-shaped syntax tree oxc-parser returns. */
export interface SyntaxNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

/** A name a piece of code uses but does not declare; `member` when it is used as `name.member`. */
export interface Reference {
  name: string;
  member?: string;
}

/**
 * A module the code loads as it runs, with `import(...)` or `require(...)`. Its path is kept as
 * the literal text around the parts computed at run time: `'./plug-' + n + '.mjs'` and
 * `` `./plug-${n}.mjs` `` are `['./plug-', '.mjs']`, a literal path is one piece, and `import(name)`
 * is `['', '']`.
 */
export interface ModuleLoad {
  call: 'import' | 'require';
  pieces: string[];
  /** Where the path's expression is in the file, as character offsets. */
  start: number;
  end: number;
}

/** What a piece of code refers to outside itself, and what analysis cannot follow. */
export interface References {
  references: Reference[];
  /** The modules it loads as it runs (see ModuleLoad). */
  loads: ModuleLoad[];
  /** Why the code may reach more than its references show: `eval`, `new Function`. */
  dynamic: string[];
}

/** Keys of the syntax tree that hold TypeScript types: nothing in them runs. */
export const TYPE_KEYS: ReadonlySet<string> = new Set(['typeAnnotation', 'returnType', 'typeParameters', 'typeArguments', 'superTypeArguments', 'implements']);
/** Keys holding types or positions: nothing in them runs. */
const NOT_CODE = new Set(['type', 'start', 'end', ...TYPE_KEYS]);
/** TypeScript nodes that wrap a runtime expression (`x as T`, `x!`...): only the expression runs. */
export const TYPE_WRAPPERS: ReadonlySet<string> = new Set(['TSAsExpression', 'TSSatisfiesExpression', 'TSNonNullExpression', 'TSTypeAssertion', 'TSInstantiationExpression']);

class Scope {
  readonly names = new Set<string>();
  constructor(readonly parent?: Scope) {}

  has(name: string): boolean {
    for (let scope: Scope | undefined = this; scope; scope = scope.parent) if (scope.names.has(name)) return true;
    return false;
  }
}

/**
 * The free references of a function or declaration: every name it uses that is not declared
 * inside it, with JavaScript's scoping (parameters, `var` hoisting, block-scoped `let`, `const`,
 * classes and functions, catch parameters), so a local that shadows a helper in one scope does
 * not hide a use of the helper in another. Types are ignored: they do not run.
 */
export function referencesOf(node: SyntaxNode): References {
  const found = new Map<string, Reference>();
  const loads: ModuleLoad[] = [];
  const dynamic = new Set<string>();
  const refer = (name: string, member?: string) => {
    const key = member === undefined ? name : `${name}.${member}`;
    if (!found.has(key)) found.set(key, member === undefined ? { name } : { name, member });
  };

  const visit = (value: unknown, scope: Scope): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, scope);
      return;
    }
    if (!isNode(value)) return;
    const node = value;
    switch (node.type) {
      case 'Identifier':
        if (!scope.has(node.name as string)) refer(node.name as string);
        return;
      case 'MemberExpression': {
        const object = node.object as SyntaxNode;
        const property = node.property as SyntaxNode;
        if (node.computed) {
          visit(object, scope);
          visit(property, scope);
        } else if (object.type === 'Identifier' && property.type === 'Identifier') {
          if (!scope.has(object.name as string)) refer(object.name as string, property.name as string);
        } else {
          visit(object, scope);
        }
        return;
      }
      case 'Property':
      case 'MethodDefinition':
      case 'PropertyDefinition':
      case 'AccessorProperty':
        if (node.computed) visit(node.key, scope);
        visit(node.decorators, scope);
        visit(node.value, scope);
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        visitFunction(node, scope);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression': {
        visit(node.decorators, scope);
        visit(node.superClass, scope);
        const inner = new Scope(scope);
        if (isNode(node.id)) inner.names.add(node.id.name as string);
        visit(node.body, inner);
        return;
      }
      case 'BlockStatement':
      case 'StaticBlock': {
        const inner = new Scope(scope);
        declareBlock(node.body as SyntaxNode[], inner);
        visit(node.body, inner);
        return;
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const inner = new Scope(scope);
        const head = (node.init ?? node.left) as SyntaxNode | null;
        if (head?.type === 'VariableDeclaration' && head.kind !== 'var') declareVariables(head, inner);
        for (const key of ['init', 'left', 'test', 'update', 'right', 'body']) visit(node[key], inner);
        return;
      }
      case 'SwitchStatement': {
        visit(node.discriminant, scope);
        const inner = new Scope(scope);
        for (const branch of node.cases as SyntaxNode[]) declareBlock(branch.consequent as SyntaxNode[], inner);
        visit(node.cases, inner);
        return;
      }
      case 'CatchClause': {
        const inner = new Scope(scope);
        if (isNode(node.param)) {
          for (const name of boundNames(node.param)) inner.names.add(name);
          visitPattern(node.param, inner);
        }
        visit(node.body, inner);
        return;
      }
      case 'VariableDeclarator':
        visitPattern(node.id as SyntaxNode, scope);
        visit(node.init, scope);
        return;
      case 'LabeledStatement':
        visit(node.body, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
      case 'PrivateIdentifier':
        return;
      case 'ImportExpression':
        loads.push(loadOf('import', node.source as SyntaxNode));
        visit(node.source, scope);
        return;
      case 'CallExpression':
      case 'NewExpression': {
        const callee = node.callee as SyntaxNode;
        if (callee.type === 'Identifier' && !scope.has(callee.name as string)) {
          if (callee.name === 'eval') dynamic.add('eval');
          if (callee.name === 'Function') dynamic.add('new Function');
          const [specifier] = node.arguments as SyntaxNode[];
          if (callee.name === 'require' && specifier) loads.push(loadOf('require', specifier));
        }
        visit(callee, scope);
        visit(node.arguments, scope);
        return;
      }
      case 'TSParameterProperty':
        visit(node.parameter, scope);
        return;
      default:
        if (TYPE_WRAPPERS.has(node.type)) {
          visit(node.expression, scope);
          return;
        }
        if (node.type.startsWith('TS')) return; // Types, interfaces, declare-only forms: nothing runs.
        for (const key in node) if (!NOT_CODE.has(key)) visit(node[key], scope);
    }
  };

  /** Defaults and computed keys inside a binding pattern are references; the bound names are not. */
  const visitPattern = (pattern: SyntaxNode, scope: Scope): void => {
    switch (pattern.type) {
      case 'AssignmentPattern':
        visitPattern(pattern.left as SyntaxNode, scope);
        visit(pattern.right, scope);
        return;
      case 'ObjectPattern':
        for (const property of pattern.properties as SyntaxNode[]) {
          if (property.type === 'RestElement') visitPattern(property.argument as SyntaxNode, scope);
          else {
            if (property.computed) visit(property.key, scope);
            visitPattern(property.value as SyntaxNode, scope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const element of pattern.elements as (SyntaxNode | null)[]) if (element) visitPattern(element, scope);
        return;
      case 'RestElement':
        visitPattern(pattern.argument as SyntaxNode, scope);
        return;
      case 'TSParameterProperty':
        visitPattern(pattern.parameter as SyntaxNode, scope);
        return;
      default:
        if (pattern.type !== 'Identifier') visit(pattern, scope); // e.g. a member expression target in `[a.b] = x`
    }
  };

  const visitFunction = (node: SyntaxNode, outer: Scope): void => {
    visit(node.decorators, outer);
    const scope = new Scope(outer);
    if (node.type === 'FunctionExpression' && isNode(node.id)) scope.names.add(node.id.name as string);
    if (node.type !== 'ArrowFunctionExpression') scope.names.add('arguments');
    const params = node.params as SyntaxNode[];
    for (const param of params) for (const name of boundNames(param)) scope.names.add(name);
    for (const param of params) visitPattern(param, scope);
    const body = node.body as SyntaxNode | null;
    if (!body) return;
    if (body.type === 'BlockStatement') {
      hoistVars(body, scope);
      declareBlock(body.body as SyntaxNode[], scope);
      visit(body.body, scope);
    } else {
      visit(body, scope);
    }
  };

  visit(node, new Scope());
  return { references: [...found.values()], loads, dynamic: [...dynamic] };
}

function loadOf(call: ModuleLoad['call'], specifier: SyntaxNode): ModuleLoad {
  return { call, pieces: specifier.type === 'SpreadElement' ? COMPUTED : literalPieces(specifier), start: specifier.start, end: specifier.end };
}

/** A part of a path computed at run time: it could be any text. */
const COMPUTED = ['', ''];

/**
 * The literal text of a path expression around its computed parts: string literals, templates,
 * `+` of those, and `new URL(path, import.meta.url)` (a URL relative to the module, as an import
 * path is). Anything else is computed.
 */
function literalPieces(expression: SyntaxNode): string[] {
  let node = expression;
  while (TYPE_WRAPPERS.has(node.type)) node = node.expression as SyntaxNode;
  switch (node.type) {
    case 'Literal':
      return typeof node.value === 'string' ? [node.value] : COMPUTED;
    case 'TemplateLiteral':
      return (node.quasis as SyntaxNode[]).map((quasi) => (quasi.value as { cooked: string }).cooked);
    case 'BinaryExpression':
      return node.operator === '+' ? joinPieces(literalPieces(node.left as SyntaxNode), literalPieces(node.right as SyntaxNode)) : COMPUTED;
    case 'MemberExpression':
      // `new URL(...).href`
      return !node.computed && (node.property as SyntaxNode).name === 'href' && isModuleUrl(node.object as SyntaxNode) ? urlPieces(node.object as SyntaxNode) : COMPUTED;
    default:
      return isModuleUrl(node) ? urlPieces(node) : COMPUTED;
  }
}

/** `new URL(path, import.meta.url)`. */
function isModuleUrl(node: SyntaxNode): boolean {
  if (node.type !== 'NewExpression' || (node.callee as SyntaxNode).type !== 'Identifier' || (node.callee as SyntaxNode).name !== 'URL') return false;
  const base = (node.arguments as SyntaxNode[])[1];
  return base?.type === 'MemberExpression' && (base.object as SyntaxNode).type === 'MetaProperty' && (base.property as SyntaxNode).name === 'url';
}

/** The pieces of a module URL's path: a bare name in a URL is relative to the module's folder. */
function urlPieces(url: SyntaxNode): string[] {
  const [first, ...rest] = literalPieces((url.arguments as SyntaxNode[])[0]!);
  // Starting with a computed part, it is not bounded by the module's folder.
  return /^\.{0,2}\//.test(first!) || (first === '' && rest.length > 0) ? [first!, ...rest] : [`./${first}`, ...rest];
}

/** The pieces of `a + b`: the last literal of one and the first of the other are one text. */
function joinPieces(left: string[], right: string[]): string[] {
  return [...left.slice(0, -1), `${left.at(-1)}${right[0]}`, ...right.slice(1)];
}

/** Declares what a block declares directly: let, const, class, function, enum. */
function declareBlock(statements: SyntaxNode[], scope: Scope): void {
  for (const statement of statements) {
    const declaration = unwrapExport(statement);
    if (!declaration) continue;
    if (declaration.type === 'VariableDeclaration') {
      if (declaration.kind !== 'var') declareVariables(declaration, scope);
    } else if (isNode(declaration.id) && /^(FunctionDeclaration|ClassDeclaration|TSEnumDeclaration)$/.test(declaration.type)) {
      scope.names.add(declaration.id.name as string);
    }
  }
}

/** Declares every `var` of a function body in the function's scope, as JavaScript hoists them. */
function hoistVars(value: unknown, scope: Scope): void {
  if (Array.isArray(value)) {
    for (const item of value) hoistVars(item, scope);
    return;
  }
  if (!isNode(value)) return;
  if (value.type === 'VariableDeclaration' && value.kind === 'var') declareVariables(value, scope);
  if (/Function|Class/.test(value.type)) return; // Their vars are their own.
  for (const key in value) if (!NOT_CODE.has(key)) hoistVars(value[key], scope);
}

function declareVariables(declaration: SyntaxNode, scope: Scope): void {
  for (const declarator of declaration.declarations as SyntaxNode[]) for (const name of boundNames(declarator.id as SyntaxNode)) scope.names.add(name);
}

/** The names a binding pattern declares: `{ a, b: [c], ...d }` declares a, c and d. */
export function boundNames(pattern: SyntaxNode): string[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name as string];
    case 'AssignmentPattern':
      return boundNames(pattern.left as SyntaxNode);
    case 'RestElement':
      return boundNames(pattern.argument as SyntaxNode);
    case 'TSParameterProperty':
      return boundNames(pattern.parameter as SyntaxNode);
    case 'ArrayPattern':
      return (pattern.elements as (SyntaxNode | null)[]).flatMap((element) => (element ? boundNames(element) : []));
    case 'ObjectPattern':
      return (pattern.properties as SyntaxNode[]).flatMap((property) =>
        boundNames((property.type === 'RestElement' ? property.argument : property.value) as SyntaxNode),
      );
    default:
      return [];
  }
}

/** The declaration inside `export ...`, or the statement itself. */
export function unwrapExport(statement: SyntaxNode): SyntaxNode | undefined {
  if (statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration') {
    return isNode(statement.declaration) ? statement.declaration : undefined;
  }
  return statement;
}

export function isNode(value: unknown): value is SyntaxNode {
  return typeof value === 'object' && value !== null && typeof (value as SyntaxNode).type === 'string';
}

