/**
 * `npm run build [-- <service>…]`: bundles every service (or the ones named) into
 * dist/<service>/main.js; run one with `node --enable-source-maps dist/<service>/main.js`.
 * The full build also bundles the image's tools (dist/fairlead-init/main.js, dist/fairlead-bootstrap/main.js,
 * and the operator's command, dist/fairlead/main.js).
 * Fails when a bundle imports a package its service does not list as a production
 * dependency (it would be missing under `npm ci --omit=dev`).
 */
import { rm } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverServices } from '../services';
import { bundleImageTool, bundleService, IMAGE_TOOLS, imagePackages, productionPackages } from './bundle';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const known = discoverServices(repoRoot).map((s) => s.name);
const wanted = process.argv.slice(2);
const unknown = wanted.filter((s) => !known.includes(s));
if (unknown.length > 0) {
  console.error(`unknown service(s): ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(64);
}
if (wanted.length === 0) await rm(resolve(repoRoot, 'dist'), { recursive: true, force: true });

let failed = false;
for (const service of wanted.length > 0 ? wanted : known) {
  const result = await bundleService(repoRoot, service);
  const production = await productionPackages(repoRoot, service);
  const missing = result.externals.filter((name) => !production.has(name));
  if (missing.length > 0) {
    failed = true;
    console.error(`${service}: imports ${missing.join(', ')}, not a production dependency of the service or its libraries`);
  }
  console.log(`${relative(repoRoot, result.file)}  (${result.externals.length} external packages)`);
}
// The image's other programs (the one-shots), with the full build only: they may import only what the image installs.
const installed = wanted.length === 0 ? await imagePackages(repoRoot, known) : new Set<string>();
for (const name of wanted.length === 0 ? Object.keys(IMAGE_TOOLS) : []) {
  const result = await bundleImageTool(repoRoot, name);
  const missing = result.externals.filter((p) => !installed.has(p));
  if (missing.length > 0) {
    failed = true;
    console.error(`${name}: imports ${missing.join(', ')}, which the image does not install (a production dependency of no service)`);
  }
  console.log(`${relative(repoRoot, result.file)}`);
}
process.exit(failed ? 1 : 0);
