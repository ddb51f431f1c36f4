// ESLint flat config (`npm run lint`, run by .ci/run): @eslint/js's and typescript-eslint's
// recommended rules over the sources, tools and tests, with the exceptions below, each for a
// reason. Formatting is prettier's (.prettierrc.json, `npm run format:check`), not ESLint's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".toolchain/", "out/", "bin/", "coverage/", ".build/", ".test-out/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Input safety matches control characters on purpose: refusing or escaping them is the point
      // (src/config/scalars.ts, the sinks' escapers, the tests that feed them hostile input).
      "no-control-regex": "off",
      // `_name` marks a value kept for its position or left out of a rest (`{ a: _a, ...rest }`).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // A `let` a closure defined earlier reads (a cleanup that runs before the assignment) must stay a `let`.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // The command provider stand-in drives @pulumi/pulumi's generated protobuf modules: plain,
    // untyped CommonJS, loaded with require and handled as `any` where their messages cross.
    files: ["tools/toolchain/command-provider/**/*.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off", "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // CommonJS entry points node runs directly.
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        exports: "writable",
        process: "readonly",
        __dirname: "readonly",
        __filename: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
