/**
 * The production build: each service's main.ts and the workspace code it imports
 * (@fairlead/*, TypeScript) bundled by esbuild into one ESM file, dist/<service>/main.js,
 * run with plain `node`. Third-party packages stay external, installed by
 * `npm ci --omit=dev`: several must not be bundled (OpenTelemetry instruments `pg` and
 * `http` by hooking their loading; @fastify/swagger-ui serves files from its own folder).
 *
 * Why a bundler and not `tsc -b`: the sources import each other without file extensions
 * (moduleResolution Bundler) and the libraries export their .ts sources, neither of which
 * plain Node runs; esbuild (already here under tsx and vitest) resolves both, in about a
 * second per service.
 */
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

export interface BundleResult {
  service: string;
  /** The bundle, dist/<service>/main.js. */
  file: string;
  /** Third-party packages the bundle imports at run time (they must be production dependencies). */
  externals: string[];
}

const BUILTINS = new Set(builtinModules);

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Workspace code (@fairlead/*) and the packages named in `inline` are bundled; every other bare import stays an import, and is recorded. */
function externals(found: Set<string>, inline: ReadonlySet<string>): Plugin {
  return {
    name: 'third-party-external',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@fairlead/')) return undefined;
        const name = packageNameOf(args.path);
        if (args.path.startsWith('node:') || BUILTINS.has(name)) return { path: args.path, external: true };
        if (inline.has(name)) return undefined;
        found.add(name);
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * `import.meta.url` of a bundled module would be the bundle's; this makes it the module's
 * own source file again (relative to the bundle), so paths computed from it — the
 * notification templates, the data directory — are the same under `node dist/…` as under
 * tsx, provided the image keeps the repository's layout for such files.
 */
function sourceImportMetaUrl(outDir: string): Plugin {
  return {
    name: 'source-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const own = `new URL(${JSON.stringify(relative(outDir, args.path))}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', own), loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
}

/** Bundles services/<service>/src/main.ts into <outRoot>/<service>/main.js (with a source map). */
export async function bundleService(repoRoot: string, service: string, outRoot = resolve(repoRoot, 'dist')): Promise<BundleResult> {
  return bundleEntry(resolve(repoRoot, 'services', service, 'src', 'main.ts'), service, outRoot);
}

/**
 * The image's programs that are not services: the one-shots of docker-compose.yml,
 * `fairlead-init` (infra/src/deploy/init-main.ts: the state volume, Node's modules only) and
 * `fairlead-bootstrap` (infra/src/deploy/bootstrap-main.ts: the bus and database credentials),
 * and the operator's `fairlead` command (compose's `fairlead` service, docs/deployment.md).
 * Their workspace code is bundled; the packages they import must be ones the image installs
 * (imagePackages), as infra's own workspace is not installed there.
 */
export const IMAGE_TOOLS: Readonly<Record<string, string>> = Object.freeze({
  'fairlead-init': 'infra/src/deploy/init-main.ts',
  'fairlead-bootstrap': 'infra/src/deploy/bootstrap-main.ts',
  // The operator's command (cli/: verify, replay, audit, events, projections), `fairlead` on the image's PATH.
  fairlead: 'cli/src/main.ts',
});

/**
 * Third-party packages an image tool needs that no service installs, bundled into it
 * instead: the image installs the services' production dependencies only. commander (the
 * CLI's command line) is one file of plain JavaScript without dependencies of its own and
 * hooks nothing, so it bundles safely.
 */
export const IMAGE_TOOL_INLINE: Readonly<Record<string, readonly string[]>> = Object.freeze({ fairlead: ['commander'] });

/**
 * An ES module bundle has no `require`; esbuild's CommonJS wrappers (of an inlined package
 * such as commander) call it for Node's built-in modules, so the bundle gets one of its own.
 */
const REQUIRE_BANNER = `import { createRequire as __bundleCreateRequire } from 'node:module';\nconst require = __bundleCreateRequire(import.meta.url);`;

export interface BundleEntryOptions {
  /** Third-party packages to bundle rather than import at run time (IMAGE_TOOL_INLINE). */
  inline?: readonly string[];
}

/** Bundles one of IMAGE_TOOLS into <outRoot>/<name>/main.js, as `npm run build` does. */
export async function bundleImageTool(repoRoot: string, name: string, outRoot = resolve(repoRoot, 'dist')): Promise<BundleResult> {
  const entry = IMAGE_TOOLS[name];
  if (!entry) throw new Error(`not an image tool: ${name} (one of ${Object.keys(IMAGE_TOOLS).join(', ')})`);
  return bundleEntry(resolve(repoRoot, entry), name, outRoot, { inline: IMAGE_TOOL_INLINE[name] ?? [] });
}

/** Bundles one entry point into <outRoot>/<name>/main.js (with a source map). */
export async function bundleEntry(entry: string, name: string, outRoot: string, options: BundleEntryOptions = {}): Promise<BundleResult> {
  const outDir = resolve(outRoot, name);
  const file = resolve(outDir, 'main.js');
  const found = new Set<string>();
  const inline = new Set(options.inline ?? []);
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    sourcemap: true,
    logLevel: 'warning',
    // The bundle runs as ES module: the root package.json says "type": "module".
    plugins: [externals(found, inline), sourceImportMetaUrl(outDir)],
    ...(inline.size > 0 ? { banner: { js: REQUIRE_BANNER } } : {}),
  });
  return { service: name, file, externals: [...found].sort() };
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}

/**
 * The packages `npm ci --omit=dev --workspace=services/<service>` installs at top level:
 * the service's dependencies and those of the workspace libraries it depends on
 * (devDependencies left out, as in the image).
 */
export async function productionPackages(repoRoot: string, service: string): Promise<Set<string>> {
  const workspaces = new Map<string, string>();
  const rootManifest = JSON.parse(await readFile(resolve(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
  // The root's workspace patterns are folders or `folder/*` (Node 20 has no fs.glob).
  const dirs = async (pattern: string) =>
    pattern.endsWith('/*') ? (await readdir(resolve(repoRoot, pattern.slice(0, -2)))).map((d) => `${pattern.slice(0, -2)}/${d}`) : [pattern];
  for (const pattern of rootManifest.workspaces) {
    for (const dir of await dirs(pattern)) {
      const manifest = JSON.parse(await readFile(resolve(repoRoot, dir, 'package.json'), 'utf8').catch(() => '{}')) as Partial<Manifest>;
      if (manifest.name) workspaces.set(manifest.name, resolve(repoRoot, dir));
    }
  }
  const installed = new Set<string>();
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(await readFile(resolve(dir, 'package.json'), 'utf8')) as Manifest;
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      const workspace = workspaces.get(name);
      if (workspace) await visit(workspace);
      else installed.add(name);
    }
  };
  await visit(resolve(repoRoot, 'services', service));
  return installed;
}

/** The packages the image installs: the production dependencies of every service (and their libraries). */
export async function imagePackages(repoRoot: string, services: readonly string[]): Promise<Set<string>> {
  const all = new Set<string>();
  for (const service of services) for (const name of await productionPackages(repoRoot, service)) all.add(name);
  return all;
}
