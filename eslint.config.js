// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.dist-test-*/',
      'dashboard/dist/',
      'coverage/',
      '.data/',
      '.scratch/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through the parsed config module, not process.env.',
        },
      ],
    },
  },
  // The folder is the architecture (DESIGN.md): engine ← db ← gateway ← dashboard/bench.
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/db/**', '**/gateway/**', '**/bench/**', '**/dashboard/**', '**/test/**'],
              message: 'engine/ imports nothing of ours: queue semantics only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['db/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/gateway/**', '**/bench/**', '**/dashboard/**', '**/test/**'],
              message: 'db/ knows nothing of sockets or HTTP: it may import engine types only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/bench/**', '**/test/**'],
              message: 'gateway/ must not depend on the bench or the tests.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['dashboard/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/**', '**/db/**', '**/bench/**', '**/test/**'],
              message: 'dashboard/ talks over HTTP and Socket.IO: it imports only the protocol types.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['dashboard/vite.config.js'],
    languageOptions: { globals: { URL: 'readonly' } },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
