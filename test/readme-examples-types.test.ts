// The README's complete examples (the ```ts blocks that import littlepipes and make a Pipeline)
// type-check in strict mode, against the built package as a user's project imports it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO, makeProject } from './cli/project.js';

const TSC = path.join(REPO, 'node_modules', '.bin', 'tsc');

function completeExamples(): string[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((code) => code.includes("from 'littlepipes'") && code.includes('new Pipeline('));
}

test('the README\'s complete examples type-check in strict mode against the built package', { timeout: 120_000 }, async () => {
  const examples = completeExamples();
  assert.ok(examples.length >= 3, `the README has the quick start, the sample and the types example (found ${examples.length})`);
  const project = makeProject();
  const files = examples.map((code, index) => {
    const file = `example-${index + 1}.ts`;
    fs.writeFileSync(path.join(project, file), code);
    return file;
  });
  const compilerOptions = {
    target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2023'], strict: true, noEmit: true, skipLibCheck: true,
    types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')],
  };
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  const compiled = await promisify(execFile)(TSC, ['-p', 'tsconfig.json'], { cwd: project }).then(() => '', (error: { stdout?: string }) => error.stdout ?? String(error));
  assert.equal(compiled, '', `tsc on the README's examples:\n${compiled}`);
});
