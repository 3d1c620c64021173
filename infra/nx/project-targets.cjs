/**
 * Nx plugin: every project with a tsconfig.json (libs/*, services/*, infra, tests,
 * benchmarks) gets three targets, run from the workspace root:
 *   lint       eslint on the project's folder (the root eslint.config.js)
 *   typecheck  tsc on the project's tsconfig.json (its sources and what they import)
 *   test       vitest on the project's folder (the root vitest.config.ts: its own
 *              PostgreSQL and NATS per run)
 * Caching and inputs are in nx.json (targetDefaults). `npm run check` runs them for the
 * projects a change affects; `npm test` stays the full run CI makes.
 * Plain CommonJS: Nx loads it without a TypeScript step.
 */
const { dirname } = require('node:path');

/** @type {import('nx/src/project-graph/plugins').CreateNodes} */
const createNodes = [
  '**/tsconfig.json',
  (files) =>
    files
      .filter((file) => file !== 'tsconfig.json' && !file.includes('node_modules/'))
      .map((file) => {
        const root = dirname(file);
        return [
          file,
          {
            projects: {
              [root]: {
                targets: {
                  lint: { command: `eslint ${root}` },
                  typecheck: { command: `tsc -p ${file} --noEmit` },
                  test: { command: `vitest run --dir ${root} --passWithNoTests` },
                },
              },
            },
          },
        ];
      }),
];

module.exports = { name: 'fairlead-project-targets', createNodes };
