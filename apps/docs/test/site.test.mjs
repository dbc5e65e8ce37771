// End-to-end test of the documentation site: builds it with apps/docs/build.mjs, serves
// apps/docs/site on 127.0.0.1 and looks at it in a real headless Chromium (playwright-core).
// Run with node's own test runner: node --test apps/docs/test/
//
// Needs the workspace built first (the knet CLI runs at build time for the guides' directives):
//   pnpm turbo run build --filter=@knet/docs^...
// The browser part is skipped, with the reason printed, when /usr/bin/chromium is missing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP = path.resolve(HERE, '..');
const REPO = path.resolve(APP, '../..');
const BUILD = path.join(APP, 'build.mjs');
const SITE = path.join(APP, 'site');
const CHROMIUM = '/usr/bin/chromium';
const GUIDE = 'guides/how-a-packet-travels-between-pods.html';

function runBuild(args = []) {
  return spawnSync(process.execPath, [BUILD, ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
}

function markdownUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.md')) out.push(path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
  }
  return out.sort();
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** A minimal static file server for `root` on an ephemeral 127.0.0.1 port. */
async function serve(root) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(root, '.' + rel);
      if (file !== root && !file.startsWith(root + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { base: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('apps/docs build.mjs', () => {
  let build;
  before(() => {
    build = runBuild();
  });

  it('builds every docs/**/*.md page and the API reference', () => {
    assert.equal(build.status, 0, `build failed:\n${build.stdout}\n${build.stderr}`);
    const sources = markdownUnder(path.join(REPO, 'docs'));
    assert.ok(sources.includes('index.md') && sources.includes('guides/how-a-packet-travels-between-pods.md'));
    for (const md of sources) {
      const html = path.join(SITE, md.replace(/\.md$/, '.html'));
      assert.ok(existsSync(html), `${md} was not rendered to ${path.relative(REPO, html)}`);
    }
    assert.ok(existsSync(path.join(SITE, 'api/index.html')), 'typedoc wrote no api/index.html');
    assert.match(build.stdout, new RegExp(`docs: ${sources.length} page\\(s\\)`));
  });

  it('replaces directives with real CLI output and leaves no directive behind', async () => {
    assert.equal(build.status, 0, 'build failed (see the first test)');
    const html = await readFile(path.join(SITE, GUIDE), 'utf8');
    assert.doesNotMatch(html, /&lt;!--\s*knet:|<!--\s*knet:/);
    const blocks = [...html.matchAll(/<pre><code class="language-console">\$ knet ([^\n]*)\n/g)].map((m) => m[1]);
    assert.ok(blocks.some((b) => b.startsWith('trace ')), `no trace block in the guide: ${blocks.join(' | ')}`);
    assert.ok(blocks.some((b) => b.startsWith('show ')), `no show block in the guide: ${blocks.join(' | ')}`);
  });

  describe('with a scratch docs folder', () => {
    let dir;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'knet-docs-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('fails on a directive whose command exits non-zero, naming the page and the directive', () => {
      const docs = path.join(dir, 'failing');
      mkdirSync(path.join(docs, 'guides'), { recursive: true });
      writeFileSync(path.join(docs, 'index.md'), '# Home\n');
      writeFileSync(
        path.join(docs, 'guides/broken.md'),
        '# Broken\n\n<!-- knet: trace default/no-such-pod-x default/no-such-pod-y -->\n',
      );
      const r = runBuild(['--docs', docs, '--out', path.join(dir, 'failing-site'), '--skip-api']);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /docs\/guides\/broken\.md/);
      assert.match(r.stderr, /<!-- knet: trace default\/no-such-pod-x default\/no-such-pod-y -->/);
      assert.match(r.stderr, /exited with status [1-9]/);
    });

    it('fails on a malformed directive instead of dropping it as a comment', () => {
      const docs = path.join(dir, 'malformed');
      mkdirSync(docs, { recursive: true });
      writeFileSync(path.join(docs, 'index.md'), '# Home\n\n<!-- knet show node-1 route -->\n');
      const r = runBuild(['--docs', docs, '--out', path.join(dir, 'malformed-site'), '--skip-api']);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /docs\/index\.md: malformed directive <!-- knet show node-1 route -->/);
    });

    it('rewrites relative .md links to .html, and fails on a link to a missing page', async () => {
      const docs = path.join(dir, 'links');
      mkdirSync(path.join(docs, 'guides'), { recursive: true });
      writeFileSync(path.join(docs, 'index.md'), '# Home\n\n[a guide](guides/a.md#step-two) [out](https://example.org/x.md)\n');
      writeFileSync(path.join(docs, 'guides/a.md'), '# A\n\n## Step two\n\n[back](../index.md)\n\n```md\n<!-- knet: not-a-command -->\n```\n');
      const out = path.join(dir, 'links-site');
      const ok = runBuild(['--docs', docs, '--out', out, '--skip-api']);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      const index = await readFile(path.join(out, 'index.html'), 'utf8');
      const guide = await readFile(path.join(out, 'guides/a.html'), 'utf8');
      assert.match(index, /<a href="guides\/a\.html#step-two">a guide<\/a>/);
      assert.match(index, /<a href="https:\/\/example\.org\/x\.md">out<\/a>/);
      assert.match(guide, /<a href="\.\.\/index\.html">back<\/a>/);
      assert.match(guide, /<h2 id="step-two">/);
      // A directive inside fenced code is documentation, not a command.
      assert.match(guide, /&lt;!-- knet: not-a-command --&gt;/);

      writeFileSync(path.join(docs, 'guides/b.md'), '# B\n\n[gone](missing.md)\n');
      const bad = runBuild(['--docs', docs, '--out', out, '--skip-api']);
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /guides\/b\.md: link to missing\.md/);
    });
  });

  describe('in a real browser', () => {
    let server;
    let context;
    let userDataDir;
    const requests = [];
    const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium)`;
    if (skip) console.log(`skipping the browser tests: ${skip}`);

    before(async () => {
      if (skip) return;
      assert.equal(build.status, 0, 'build failed (see the first test)');
      server = await serve(SITE);
      userDataDir = mkdtempSync(path.join(tmpdir(), 'knet-docs-chromium-'));
      const { chromium } = await import('playwright-core');
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      context.on('request', (req) => requests.push(req.url()));
    });

    after(async () => {
      await context?.close();
      await server?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('lists the guide on the index page', { skip }, async () => {
      const page = await context.newPage();
      await page.goto(server.base, { waitUntil: 'load' });
      assert.equal(await page.title(), 'knet');
      const link = page.locator('main a', { hasText: 'How a packet travels between pods' }).first();
      assert.equal(await link.getAttribute('href'), GUIDE);
      const navLink = page.locator('nav.sidebar a', { hasText: 'How a packet travels between pods' });
      assert.equal(await navLink.count(), 1);
      await page.close();
    });

    it('shows generated trace output on the guide page', { skip }, async () => {
      const page = await context.newPage();
      await page.goto(server.base + GUIDE, { waitUntil: 'load' });
      assert.equal(await page.title(), 'How a packet travels between pods · knet');
      const traces = page.locator('pre code.language-console', { hasText: '$ knet trace' });
      assert.ok((await traces.count()) >= 2, 'expected a same-node and a cross-node trace');
      const withBridge = page.locator('pre', { hasText: 'cbr0' });
      assert.ok((await withBridge.count()) >= 1, 'no pre block mentions cbr0');
      // Readable: the pre block scrolls instead of overflowing the page.
      const overflow = await traces.first().locator('xpath=..').evaluate((el) => getComputedStyle(el).overflowX);
      assert.equal(overflow, 'auto');
      await page.close();
    });

    it('renders the API reference of @knet/core', { skip }, async () => {
      const page = await context.newPage();
      await page.goto(server.base + 'api/index.html', { waitUntil: 'load' });
      // With several packages the index lists them; with one, it is that package's page.
      const pkg = page.locator('a', { hasText: /^@knet\/core$/ }).first();
      if ((await pkg.count()) > 0) {
        await Promise.all([page.waitForURL((u) => u.pathname !== '/api/index.html'), pkg.click()]);
      }
      await page.locator('a', { hasText: /^KnetError$/ }).first().click();
      await page.waitForURL(/KnetError\.html$/);
      const h1 = await page.locator('h1').first().innerText();
      assert.match(h1, /Class KnetError/);
      assert.match(await page.locator('body').innerText(), /isKnetError|code/);
      await page.close();
    });

    it('loads nothing from outside 127.0.0.1', { skip }, () => {
      assert.ok(requests.length > 0);
      const outside = requests.filter((u) => !u.startsWith(server.base) && !u.startsWith('data:') && !u.startsWith('about:'));
      assert.deepEqual(outside, []);
    });
  });
});
