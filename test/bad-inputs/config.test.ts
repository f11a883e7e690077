// littlepipes.yaml that is wrong: each is a ConfigError naming the file, the line and the key
// (with a suggestion for a typo), and what was cached before is still served.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, InvalidOptionError, Pipeline, Task } from '../../lib/index.js';
import { temporaryFolder } from '../helpers.js';

const quiet = { progress: false } as const;

/** A pipeline with a cached result, in a folder whose littlepipes.yaml is then replaced by `yaml`. */
async function withConfig(yaml: string): Promise<{ make: () => Pipeline<any>; config: string }> {
  const folder = temporaryFolder();
  const config = path.join(folder, 'littlepipes.yaml');
  fs.writeFileSync(config, 'profiles:\n  fine: {}\n');
  const make = () => new Pipeline('Configured', { cacheDir: path.join(folder, 'cache'), config }).add(
    new Task('Load', { stage: 'source' }).process('run', () => [1, 2, 3]),
    new Task('Sample', { stage: 'source' }).process('run', () => [1]),
    new Task('Check', { dependencies: ['Load'], optional: 'qa' }).process('run', () => true),
    new Task('Filter', { params: { minimum: 10, regions: ['north'], range: { from: 1, to: 5 } } }).process('run', (t) => t.params.minimum + t.params.range.to),
  );
  const first = make();
  await first.execute(quiet);
  await first.close();
  fs.writeFileSync(config, yaml);
  return { make, config };
}

const cases: [string, string, string, RegExp[]][] = [
  ['malformed YAML', 'profiles:\n  fine: {stages: [\n', 'fine', [/littlepipes\.yaml:\d+: this is not valid YAML/]],
  ['an unknown top-level key', 'profile:\n  fine: {}\n', 'fine', [/littlepipes\.yaml:1: profile: unknown key\. Did you mean "profiles"\?/]],
  ['an unknown key in a profile', 'profiles:\n  fine:\n    optionl: { qa: false }\n', 'fine', [/littlepipes\.yaml:3: profiles\.fine\.optionl: unknown key\. Did you mean "optional"\?/]],
  ['a profile that is not a mapping', 'profiles:\n  fine: [1, 2]\n', 'fine', [/littlepipes\.yaml:2: profiles\.fine: a profile must be a mapping/]],
  ['an unknown task in a stage', 'profiles:\n  fine:\n    stages:\n      source: [Lod]\n', 'fine', [/littlepipes\.yaml:4: profiles\.fine\.stages\.source: task "Lod" is not in the pipeline\. Did you mean "Load"\?/]],
  ['a task of another stage', 'profiles:\n  fine:\n    stages:\n      source: [Check]\n', 'fine', [/task "Check" is not a branch of stage source/]],
  ['an unknown stage', 'profiles:\n  fine:\n    stages:\n      sources: [Load]\n', 'fine', [/stage "sources" is not in the pipeline\. Did you mean "source"\?/]],
  ['an optional group set to a word', 'profiles:\n  fine:\n    optional:\n      qa: off please\n', 'fine', [/littlepipes\.yaml:4: profiles\.fine\.optional\.qa: must be true or false, got "off please"/]],
  ['an unknown optional group', 'profiles:\n  fine:\n    optional: { qq: false }\n', 'fine', [/optional group "qq" is not in the pipeline\. Did you mean "qa"\?/]],
  ['params for an unknown task', 'profiles:\n  fine:\n    params:\n      Lood: { n: 1 }\n', 'fine', [/profiles\.fine\.params\.Lood: task "Lood" is not in the pipeline\. Did you mean "Load"\?/]],
  ['an extends cycle', 'profiles:\n  a: { extends: b }\n  b: { extends: a }\n', 'a', [/profiles extend each other in a cycle: a -> b -> a/]],
  ['extending an unknown profile', 'profiles:\n  a: { extends: bse }\n  base: {}\n', 'a', [/there is no profile "bse" to extend\. Did you mean "base"\?/]],
  ['a bad concurrency setting', 'settings:\n  concurrency: many\nprofiles:\n  fine: {}\n', 'fine', [/littlepipes\.yaml:2: settings\.concurrency: must be a whole number from 1 up, got "many"/]],
  ['a store that is not a URL', 'settings:\n  store: 6379\nprofiles:\n  fine: {}\n', 'fine', [/littlepipes\.yaml:2: settings\.store: must be a store URL \(redis:\/\/host:6379, postgresql:\/\/host\/db\), got 6379/]],
  ['a store URL of an unknown scheme', 'settings:\n  store: mongodb://db.internal/cache\nprofiles:\n  fine: {}\n', 'fine', [/littlepipes\.yaml:2: settings\.store: store URL "mongodb:\/\/db\.internal\/cache" has the scheme "mongodb:", which littlepipes does not know; use one of redis:\/\/, rediss:\/\//]],
  ['a misspelt executor setting', 'settings:\n  executor: bulmq\nprofiles:\n  fine: {}\n', 'fine', [/littlepipes\.yaml:2: settings\.executor: must be one of local, threads, bullmq, got "bulmq"\. Did you mean "bullmq"\?/]],
  ['a connection setting that is not a Redis URL', 'settings:\n  connection: queue.internal:6379\nprofiles:\n  fine: {}\n', 'fine', [/littlepipes\.yaml:2: settings\.connection: must be the Redis URL of the bullmq executor's queue, such as redis:\/\/queue\.internal:6379, got "queue\.internal:6379"/]],
  ['an unknown profile', 'profiles:\n  fine: {}\n', 'fne', [/there is no profile "fne"\. Did you mean "fine"\?/]],
  ['a string for a param declared as a number', 'profiles:\n  fine:\n    params:\n      Filter: { minimum: ten }\n', 'fine', [/littlepipes\.yaml:4: profiles\.fine\.params\.Filter\.minimum: must be a number, as task Filter declares minimum: 10, got "ten"\./]],
  ['a number among the strings of a list param', 'profiles:\n  fine:\n    params:\n      Filter:\n        regions:\n          - south\n          - 3\n', 'fine', [/littlepipes\.yaml:7: profiles\.fine\.params\.Filter\.regions\.1: must be a string, as task Filter declares regions: \["north"\], got 3\./]],
  ['an object param without a declared key', 'profiles:\n  fine:\n    params:\n      Filter:\n        range: { from: 2 }\n', 'fine', [/littlepipes\.yaml:5: profiles\.fine\.params\.Filter\.range\.to: is missing: it must be a number, as task Filter declares range: \{"from":1,"to":5\}\./]],
  ['stopAfter an unknown task', 'profiles:\n  fine: { stopAfter: Chek }\n', 'fine', [/profiles\.fine\.stopAfter: task "Chek" is not in the pipeline\. Did you mean "Check"\?/]],
];

for (const [what, yaml, profile, fragments] of cases) {
  test(`littlepipes.yaml with ${what} is a ConfigError naming the file, line and key; the cache is kept`, async () => {
    const { make, config } = await withConfig(yaml);
    await assert.rejects(async () => {
      const pipeline = make();
      try {
        await pipeline.execute({ ...quiet, profile });
      } finally {
        await pipeline.close();
      }
    }, (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.code, 'ERR_CONFIG');
      for (const fragment of fragments) assert.match(error.message, fragment);
      return true;
    });
    // Fixed, the same project serves what was cached before.
    fs.writeFileSync(config, 'profiles:\n  fine: {}\n');
    const fixed = make();
    assert.deepEqual(await fixed.getResult('Load'), [1, 2, 3]);
    await fixed.close();
  });
}

test('a config option pointing at no file is a ConfigError; a non-string one an InvalidOptionError', () => {
  assert.throws(() => new Pipeline('X', { config: '/nowhere/littlepipes.yaml' }), (error: unknown) => error instanceof ConfigError && /Cannot read the configuration \/nowhere\/littlepipes\.yaml \(the config option\)/.test(error.message));
  assert.throws(() => new Pipeline('X', { config: 42 as never }), InvalidOptionError);
});
