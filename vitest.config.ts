import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  // The examples import the package by its own name; in the repository that name is the sources (tsconfig's paths).
  resolve: {
    alias: [
      { find: /^consumer-auth$/, replacement: source('./composition/index.ts') },
      { find: /^consumer-auth\/verify$/, replacement: source('./adapters/embed/verify.ts') },
      { find: /^consumer-auth\/core$/, replacement: source('./core/index.ts') },
      { find: /^consumer-auth\/http$/, replacement: source('./adapters/http/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
