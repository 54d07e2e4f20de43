#!/usr/bin/env node
// The dependency rules of docs/architecture.md: core/ imports only fp-ts, io-ts and other core/ files; adapters/ never
// imports composition/ or cli/ (the composition root and its driver sit above the adapters). Fails CI otherwise.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'

const root = resolve(process.argv[2] ?? 'core')
const allowedPackages = new Set(['fp-ts', 'io-ts'])
const files = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]))
const specifiers = (src) =>
  [...src.matchAll(/(?:^|[^\w.])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3])

const problems = []
for (const file of files(root).filter((f) => /\.[cm]?[jt]s$/.test(f))) {
  for (const spec of specifiers(readFileSync(file, 'utf8'))) {
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec)
      if (relative(root, target).startsWith('..')) problems.push(`${relative('.', file)} imports ${spec}, outside core/`)
    } else {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
      if (!allowedPackages.has(pkg)) problems.push(`${relative('.', file)} imports ${spec}; core/ may import only fp-ts and io-ts`)
    }
  }
}
const adapters = resolve('adapters')
const above = [resolve('composition'), resolve('cli')]
const adapterFiles = files(adapters).filter((f) => /\.[cm]?[jt]s$/.test(f))
for (const file of adapterFiles) {
  for (const spec of specifiers(readFileSync(file, 'utf8'))) {
    if (!spec.startsWith('.')) continue
    const target = resolve(dirname(file), spec)
    if (above.some((dir) => !relative(dir, target).startsWith('..'))) problems.push(`${relative('.', file)} imports ${spec}; adapters/ may not import composition/ or cli/`)
  }
}
if (problems.length > 0) {
  console.error(`dependency rule broken:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`dependency rules hold (${files(root).length} core files, ${adapterFiles.length} adapter files checked)`)
