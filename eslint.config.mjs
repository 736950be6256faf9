// The TypeScript linter (issue 11): typescript-eslint's strict, type-checked rules, zero warnings
// (`npx eslint --max-warnings 0 .`, a step of scripts/test.sh).
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', '.pio/', 'host-tools/web/', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
);
