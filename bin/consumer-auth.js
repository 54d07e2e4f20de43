#!/usr/bin/env node
// The consumer-auth command: runs the built CLI (npm run build writes dist/).
let cli
try {
  cli = await import('../dist/adapters/cli/main.js')
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/adapters/cli/main.js')) {
    process.stderr.write('consumer-auth is not built yet: run `npm run build` (or `npm install`, which builds it) first.\n')
    process.exit(1)
  }
  throw e
}
await cli.run(process.argv.slice(2))
