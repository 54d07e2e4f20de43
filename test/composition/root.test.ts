/**
 * The composition root's typed identifiers: what compiles and what does not (the @ts-expect-error lines fail
 * `npm run typecheck` if the mismatch they mark ever compiles again), and one root read the way serve, the CLI and
 * createConsumerAuth read it, with a caller's pieces rebound.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { serviceModule } from '../../composition/binder.js'
import { decodeConfig } from '../../composition/config.js'
import { buildContainer } from '../../composition/container.js'
import { createLogger } from '../../composition/logger.js'
import { TYPES, type Resolver } from '../../composition/services.js'

const config = () => {
  const decoded = decodeConfig({}, { demo: 'false' })
  if (E.isLeft(decoded)) throw new Error(decoded.left)
  return decoded.right
}

/** Never called: each marked line must be a type error. */
export const mismatches = (root: Resolver) => {
  // @ts-expect-error the store is opened by an async factory: get would answer a promise as the store
  root.get(TYPES.Store)
  // @ts-expect-error the digest waits for the secrets
  root.get(TYPES.Digest)
  serviceModule((b) => {
    // @ts-expect-error a sync service's factory answers the value, not a promise of it
    b.sync(TYPES.Hasher, async () => root.get(TYPES.Hasher))
    // @ts-expect-error a sync factory cannot wait for an async service
    b.sync(TYPES.Hasher, (r) => r.getAsync(TYPES.Hasher))
    // @ts-expect-error a service is bound to a value of its own type
    b.value(TYPES.Clock, { now: () => 0 })
  })
  // Reading a sync service either way compiles.
  return [root.get(TYPES.Clock), root.getAsync(TYPES.Clock), root.getAsync(TYPES.Store)]
}

describe('the composition root', () => {
  it('resolves the pieces a caller rebinds, and builds on them', async () => {
    const store = new MemoryStore()
    const clock = { nowSeconds: () => 1_700_000_000 }
    const logger = createLogger('silent')
    const secrets = await generateSecrets('HS256')
    const root = buildContainer(config(), { store, clock, logger, secrets })
    expect(await root.getAsync(TYPES.Store)).toBe(store)
    expect(await root.getAsync(TYPES.ServiceStore)).toBe(store)
    expect(root.get(TYPES.Clock)).toBe(clock)
    expect(await root.getAsync(TYPES.Logger)).toBe(logger)
    expect(await root.getAsync(TYPES.Secrets)).toBe(secrets)
    const deps = await root.getAsync(TYPES.ImportDeps)
    expect(deps.clock).toBe(clock)
    expect(deps.hasher).toBe(root.get(TYPES.Hasher))
    expect(deps.digest).toBe(await root.getAsync(TYPES.Digest))
  })

  it('builds each service once per root, and a separate one per root', async () => {
    const a = buildContainer(config(), { store: new MemoryStore(), logger: createLogger('silent') })
    const b = buildContainer(config(), { store: new MemoryStore(), logger: createLogger('silent') })
    expect(await a.getAsync(TYPES.Metrics)).toBe(await a.getAsync(TYPES.Metrics))
    expect(await a.getAsync(TYPES.Metrics)).not.toBe(await b.getAsync(TYPES.Metrics))
  })
})
