// Lint config for scripts/bench/ (ESLint >= 10 uses the config nearest to each file): the
// project's rules plus the Node globals that the plain .mjs harness files and helpers use.
import root from '../../eslint.config.js';

const node = Object.fromEntries(
  ['process', 'console', 'Buffer', 'performance', 'URL', 'setTimeout', 'clearTimeout', 'fetch'].map((k) => [k, 'readonly']),
);

export default [
  ...root,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: node } },
  // vendored harness: kept byte-identical where possible, so don't flag its own disable comments
  { files: ['harness/**'], linterOptions: { reportUnusedDisableDirectives: 'off' } },
];
