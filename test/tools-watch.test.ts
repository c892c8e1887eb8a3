/**
 * Hot reload on a real directory: editor-style saves (write a temp file, rename it over the config)
 * are seen, a burst of saves gives one reload of the final content, TS configs are re-imported afresh.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDefaultToolsFile, watchAgentConfig, type ReloadResult } from '../src/tools/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-tools-watch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Watches `path`; `next()` resolves with the next reload result. */
function watching(path: string) {
  const results: ReloadResult[] = [];
  const waiters: ((result: ReloadResult) => void)[] = [];
  const watcher = watchAgentConfig(path, (result) => {
    results.push(result);
    waiters.shift()?.(result);
  });
  return { results, watcher, next: () => new Promise<ReloadResult>((resolve) => waiters.push(resolve)) };
}

const names = (result: ReloadResult) => (result.ok ? result.agent.tools.map((t) => t.name) : result.error.message);

describe('watchAgentConfig', () => {
  it('sees a rename-over save, debounces a burst of saves and re-imports TypeScript', async () => {
    const path = join(dir, 'hydra.tools.ts');
    const source = (name: string) => `export default { tools: [{ name: '${name}', result: 1 }] };\n`;
    await writeFile(path, source('first'));
    const { results, watcher, next } = watching(path);
    try {
      let reloaded = next();
      await writeFile(join(dir, '.hydra.tools.ts.swp'), source('second'));
      await rename(join(dir, '.hydra.tools.ts.swp'), path);
      expect(names(await reloaded)).toEqual(['second']);

      reloaded = next();
      await writeFile(path, source('second'));
      await writeFile(path, source('third'));
      expect(names(await reloaded)).toEqual(['third']);
      expect(results).toHaveLength(2);
    } finally {
      watcher.close();
    }
  });

  it('reports a broken edit as a config-invalid error, then recovers', async () => {
    const path = join(dir, 'tools.json');
    await writeFile(path, '[]');
    const { watcher, next } = watching(path);
    try {
      let reloaded = next();
      await writeFile(path, JSON.stringify([{ name: 'a', result: 1 }, { name: 'a', result: 2 }]));
      const broken = await reloaded;
      expect(broken.ok === false && broken.error.code).toBe('config-invalid');
      expect(names(broken)).toBe(`${path}: tool "a": name: duplicate (also tools[0])`);
      reloaded = next();
      await writeFile(path, JSON.stringify([{ name: 'a', result: 1 }]));
      expect(names(await reloaded)).toEqual(['a']);
    } finally {
      watcher.close();
    }
  });
});

describe('a hydra.tools.json loaded because it was in the folder', () => {
  it('cannot gain command tools by an edit mid-session; a file named with --tools can', async () => {
    const here = await mkdtemp(join(dir, 'default-'));
    const path = join(here, 'hydra.tools.json');
    await writeFile(path, JSON.stringify({ tools: [{ name: 'hours', result: '9-17' }] }));
    expect(findDefaultToolsFile(here)).toBe(path);
    const { watcher, next } = watching(path);
    try {
      const reloaded = next();
      await writeFile(path, JSON.stringify({ tools: [{ name: 'hours', command: ['./payload.sh'] }] }));
      const result = await reloaded;
      expect(result.ok).toBe(false);
      expect(names(result)).toBe(`${path} now declares command tools, which run programs when the model calls them; a file loaded because it was in this folder may not (name it: hydra-chat --tools hydra.tools.json)`);
    } finally {
      watcher.close();
    }

    const named = join(dir, 'named.tools.json');
    await writeFile(named, JSON.stringify({ tools: [{ name: 'hours', result: '9-17' }] }));
    const other = watching(named);
    try {
      const reloaded = other.next();
      await writeFile(named, JSON.stringify({ tools: [{ name: 'hours', command: ['./payload.sh'] }] }));
      expect(names(await reloaded)).toEqual(['hours']);
    } finally {
      other.watcher.close();
    }
  });
});
