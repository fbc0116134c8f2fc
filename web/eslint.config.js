// ESLint (flat config): TypeScript's recommended rules, React's, the rules of
// hooks, and jsx-a11y's accessibility rules. `npm run lint`, part of `go tool task test:web`.
import js from '@eslint/js';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['server/kodata/**', 'node_modules/**', 'src/api/types.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.{ts,tsx}'],
    ...react.configs.flat.recommended,
    settings: { react: { version: 'detect' } },
    languageOptions: { ...react.configs.flat.recommended.languageOptions, globals: globals.browser },
  },
  { files: ['src/**/*.{ts,tsx}'], ...react.configs.flat['jsx-runtime'] },
  { files: ['src/**/*.{ts,tsx}'], ...reactHooks.configs.flat['recommended-latest'] },
  { files: ['src/**/*.{ts,tsx}'], ...jsxA11y.flatConfigs.strict },
  {
    files: ['src/**/*.{ts,tsx}'],
    rules: {
      // Apostrophes in text are what people read; only the characters that hide a JSX typo are refused.
      'react/no-unescaped-entities': ['error', { forbid: ['>', '}'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // The browser story runs in Node and hands functions to the page (page.evaluate).
  { files: ['e2e/**/*.mjs'], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  { files: ['scripts/**/*.mjs', '*.config.{js,ts}'], languageOptions: { globals: globals.node } },
);
