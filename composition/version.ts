/**
 * @module version
 * The package's version, read once from package.json (two directories above this file in the sources, three in
 * dist/), for the OpenAPI document's info.version.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export const packageVersion = (): string => {
  if (cached !== undefined) return cached
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; dir = dirname(dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'consumer-auth' && pkg.version) return (cached = pkg.version)
    } catch {
      // not here: one level up
    }
  }
  return (cached = '0.0.0')
}
