// ESLint (flat config): `npm run lint`, also run by `npm run build` (so by `dotnet build`), where a
// warning fails the build (--max-warnings 0). TypeScript rules from typescript-eslint; the React
// rules are eslint-plugin-react-hooks' recommended set (the rules of hooks, exhaustive deps, and
// the React Compiler's checks: no refs read or written during render, no setState in render, ...).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  reactHooks.configs.flat.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
);
