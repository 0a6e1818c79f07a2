// ESLint flat config: TypeScript, the rules of React hooks, and the SPA's module boundaries.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** `src/features/<name>`: each is a vertical slice that the others must not reach into. */
const features = readdirSync(new URL('./src/features', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

const FEATURE_MESSAGE =
  'Features do not import each other: move what two features share to components/, lib/, api/, live/ or voice/ (app/ composes features).';
const SHARED_MESSAGE = 'Shared code (api/, components/, lib/, live/, voice/) must not depend on features or app/.';

/**
 * One block per feature and folder depth: imports of another feature by alias, and relative
 * imports that climb out of the feature's folder, are refused.
 */
const featureBoundaries = features.flatMap((name) =>
  [0, 1, 2, 3].map((depth) => ({
    files: [`src/features/${name}/${'*/'.repeat(depth)}*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@/features/*', `!@/features/${name}`, `!@/features/${name}/**`], message: FEATURE_MESSAGE },
            { regex: `^(\\.\\./){${depth + 1},}`, message: FEATURE_MESSAGE },
            { group: ['@/app', '@/app/**'], message: 'Features do not import app/: it composes them.' },
          ],
        },
      ],
    },
  })),
);

export default tseslint.config(
  { ignores: ['dist/', 'e2e-artifacts/', 'node_modules/', 'src/api/schema.d.ts'] },
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: globals.browser },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/{api,components,lib,live,voice}/**/*.{ts,tsx}'],
    ignores: ['**/*.test.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@/features', '@/features/**', '@/app', '@/app/**'], message: SHARED_MESSAGE }] },
      ],
    },
  },
  ...featureBoundaries,
  {
    // The browser tests (Playwright, in Node): typed like the SPA; fixtures destructure `{}`.
    files: ['e2e/**/*.ts', 'playwright.config.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      'no-empty-pattern': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['tools/**/*.mjs', '*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
