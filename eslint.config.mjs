// The linter: typescript-eslint's recommended rules, imports first, and the one-way arrows of lib/
// (STYLE.md): no part imports a part above it. test/unit/package/import-graph.spec.ts checks the whole graph.
import js from '@eslint/js';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const NO_TESTING = {
  group: ['**/testing', '**/testing/*'],
  message: 'The product never imports the testing entry point.',
};

/** Forbids importing these lib/ parts (paths relative to the linted file's folder), and testing/. */
const forbid = (message, ...groups) => ({
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: groups.length > 0 ? [{ group: groups, message }, NO_TESTING] : [NO_TESTING] },
    ],
  },
});

const ABOVE_TRANSPORT = [
  '**/tokens',
  '**/tokens/*',
  '**/accounts',
  '**/accounts/*',
  '**/weixin-api.client',
  '**/temporary-media.service',
  '**/messages',
  '**/messages/*',
  '**/controller',
  '**/controller/*',
  '**/validation',
  '**/validation/*',
  '**/weixin-media.module',
  '**/weixin-media.module-definition',
];

export default tseslint.config(
  { ignores: ['dist/', '.build/', 'node_modules/', 'bench/peers/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    languageOptions: { globals: globals.node },
    rules: {
      'import-x/first': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Optional peers (ioredis, sharp, class-validator, ...) are loaded with require() when first used.
      '@typescript-eslint/no-require-imports': 'off',
      // Filenames are cleaned of control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  { files: ['sample/public/**/*.js'], languageOptions: { globals: globals.browser } },
  // Parsed XML replies and module lists in tests are untyped on purpose.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['lib/**/*.ts'],
    ignores: ['lib/testing/**'],
    ...forbid(),
  },
  {
    files: ['lib/errors/**/*.ts'],
    ...forbid(
      'errors/ is framework-free and imports nothing above it (only interfaces/).',
      '../*',
      '!../interfaces',
      '!../interfaces/*',
      '@nestjs/*',
    ),
  },
  {
    files: ['lib/interfaces/**/*.ts'],
    ...forbid('interfaces/ imports nothing above it (only errors/).', '../*', '!../errors', '!../errors/*'),
  },
  {
    files: ['lib/media-rules/**/*.ts'],
    ...forbid(
      'media-rules/ knows no network and no framework: only itself, interfaces/, errors/ and Node built-ins.',
      '../*',
      '!../interfaces',
      '!../interfaces/*',
      '!../errors',
      '!../errors/*',
      '@nestjs/*',
      'axios',
      'form-data',
      'busboy',
      'rxjs',
      'ioredis',
    ),
  },
  {
    files: ['lib/weixin-api/**/*.ts'],
    ...forbid('weixin-api/ is the transport: it imports no layer above it.', ...ABOVE_TRANSPORT),
  },
  {
    files: ['lib/tokens/**/*.ts'],
    ...forbid(
      'tokens/ sits below the Weixin API client: it imports no layer above it.',
      ...ABOVE_TRANSPORT.slice(2),
    ),
  },
  {
    files: ['lib/accounts/**/*.ts'],
    ...forbid(
      'accounts/ sits between the Weixin API client and tokens/: it imports no layer above it.',
      ...ABOVE_TRANSPORT.slice(4),
    ),
  },
  {
    files: ['lib/common/**/*.ts'],
    ...forbid('common/ is used by every layer: it imports no other part of lib/.', '../*', '@nestjs/*'),
  },
  {
    files: ['lib/telemetry/**/*.ts'],
    ...forbid(
      'telemetry/ is used by every layer: it imports no other part of lib/ but common/.',
      '../*',
      '!../common',
      '!../common/*',
      '@nestjs/*',
    ),
  },
  {
    files: ['lib/health/**/*.ts'],
    ...forbid(
      'health/ sits beside the controller, above the service: it imports neither the controller nor the module.',
      ...ABOVE_TRANSPORT.slice(ABOVE_TRANSPORT.indexOf('**/controller')),
    ),
  },
  {
    files: ['lib/operations/**/*.ts', 'lib/media-download.ts', 'lib/media-upload/**/*.ts'],
    ...forbid(
      'operations/, media-download and media-upload sit below the service: they import no layer above it.',
      ...ABOVE_TRANSPORT.slice(ABOVE_TRANSPORT.indexOf('**/temporary-media.service')),
    ),
  },
  {
    files: ['lib/temporary-media.service.ts'],
    ...forbid('The service imports no layer above it.', ...ABOVE_TRANSPORT.slice(6)),
  },
  {
    files: ['lib/messages/**/*.ts'],
    ...forbid(
      'messages/ sits above the service and below the callback: it imports neither the controller nor the module.',
      ...ABOVE_TRANSPORT.slice(ABOVE_TRANSPORT.indexOf('**/controller')),
    ),
  },
);
