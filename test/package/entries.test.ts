/**
 * The package's entries as an installed consumer loads them (the built dist/, by the package's own name in a child
 * process): the verify entry loads no server dependency, the root and core entries export exactly their named public
 * surface (no internals), and every error an embedder may catch has its stable code.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../support/built-cli.js'

/** The modules a fresh process loads to import `specifier` (resolved from inside the package, as a consumer would). */
const modulesLoadedBy = (specifier: string): string[] => {
  const out = execFileSync(
    process.execPath,
    ['--import', join(ROOT, 'test/package/record-loads.mjs'), '--input-type=module', '-e', `await import(${JSON.stringify(specifier)}); await globalThis.reportLoadedModules()`],
    { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
  )
  return JSON.parse(out) as string[]
}

/** The packages (by node_modules directory) among loaded modules. */
const packagesIn = (modules: ReadonlyArray<string>): Set<string> =>
  new Set(modules.map((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1]).filter((p): p is string => p !== undefined))

const SERVER_DEPENDENCIES = ['better-sqlite3', 'pg', 'pino', 'inversify', 'kysely', 'prom-client']

const exportsOf = (specifier: string): string[] =>
  JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', `process.stdout.write(JSON.stringify(Object.keys(await import(${JSON.stringify(specifier)})).sort()))`], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000,
    }),
  ) as string[]

beforeAll(async () => {
  await ensureBuilt()
}, 120_000)

describe('consumer-auth/verify', () => {
  it('loads no server dependency (no SQLite or PostgreSQL driver, no pino, inversify, kysely or metrics)', () => {
    const packages = packagesIn(modulesLoadedBy('consumer-auth/verify'))
    expect(packages.has('jose')).toBe(true)
    for (const p of SERVER_DEPENDENCIES) expect(packages.has(p), `${p} was loaded`).toBe(false)
  }, 30_000)

  it('the recorder does see them when the root entry is loaded (so the check above can fail)', () => {
    const packages = packagesIn(modulesLoadedBy('consumer-auth'))
    for (const p of ['pino', 'inversify']) expect(packages.has(p), `${p} was not loaded`).toBe(true)
  }, 30_000)
})

describe('named public surfaces', () => {
  it('consumer-auth/core exports the rules, ports and use cases, and none of the use cases\' internals', () => {
    const names = exportsOf('consumer-auth/core')
    expect(names).toEqual(expect.arrayContaining(['issueSessionToken', 'verifySessionToken', 'resolveCredentials', 'errorCatalogue', 'authError', 'parseRelease']))
    for (const internal of ['fromPort', 'storeUnavailable', 'tryCatch', 'chainW']) expect(names).not.toContain(internal)
  }, 30_000)

  it('consumer-auth exports the factory, the stores, the import, the verifier and the errors', () => {
    expect(exportsOf('consumer-auth')).toEqual([
      'ConfigError', 'ImportError', 'MemoryStore', 'SecretsError', 'StoreError', 'createConsumerAuth', 'createSessionVerifier',
      'databaseRevocationCheck', 'decodeImportDocument', 'errorCodes', 'importDocument', 'openStore',
    ])
  }, 30_000)

  it('consumer-auth/verify exports the verifier, its middleware and the revocation check', () => {
    expect(exportsOf('consumer-auth/verify')).toEqual([
      'SecretsError', 'StoreError', 'consumerSession', 'createSessionVerifier', 'databaseRevocationCheck', 'errorCodes', 'errorEnvelope', 'okEnvelope',
    ])
  }, 30_000)
})
