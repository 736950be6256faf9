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
    rules: {
      // Numbers in messages ("port ${port}") are the point of most template strings here.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Suites declare `let broker: Mosquitto;` and set it in before(); when before() fails, after()
      // finds it undefined, which the types cannot say: `broker?.cleanup()` there is not dead code.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Fakes implement async interfaces without awaiting anything, and mocha tests are async by habit.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
