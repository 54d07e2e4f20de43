#!/usr/bin/env node
// The consumer-auth command: runs the built CLI (npm run build writes dist/).
let cli
try {
  cli = await import('../dist/cli/main.js')
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/main.js')) {
    process.stderr.write('consumer-auth is not built: run `npm run build` first (a packed or published package ships it built).\n')
    process.exit(1)
  }
  throw e
}
await cli.run(process.argv.slice(2))
