/**
 * @module container
 * The composition root, the one wiring of consumer-auth: an inversify container that loads one module per family
 * (modules/: config, logging, crypto, store, identity, the use cases, http, operations) for a decoded config, read
 * through typed service identifiers (services.ts). `consumer-auth serve` resolves the standalone app from it, every
 * CLI command its store, digest, hasher and clock, and createConsumerAuth the embedded middleware, the import and
 * the verifier. A caller that brings its own piece (a store, a clock, a logger, secrets) has it rebound by one
 * module loaded last, and everything built on it follows. Everything is resolved once, at start-up; nothing looks
 * in the container per request.
 */
import { Container } from 'inversify'
import type { Logger } from 'pino'
import type { Clock } from '../core/index.js'
import type { Secrets } from '../adapters/crypto/secrets-codec.js'
import type { Store } from '../adapters/store/store.js'
import type { Config } from './config.js'
import { configModule } from './modules/config.js'
import { cryptoModule } from './modules/crypto.js'
import { httpModule } from './modules/http.js'
import { identityModule } from './modules/identity.js'
import { loggingModule } from './modules/logging.js'
import { operationsModule } from './modules/operations.js'
import { storeModule } from './modules/store.js'
import { webApiModule } from './modules/web-api.js'
import { overridingModule, resolverOf } from './binder.js'
import { TYPES, type Resolver } from './services.js'

/** Optional replacements, for tests and embedding (a memory store, a test clock, a log destination, secrets). */
export interface Overrides {
  /** Held to the same rule as a store opened here: the service refuses to start on it if it refuses a write. */
  readonly store?: Store
  readonly clock?: Clock
  readonly logger?: Logger
  /** The secrets themselves (e.g. generated for a memory store); instead of the config's secrets, file or generation. */
  readonly secrets?: Secrets
  /** How often the pruning job runs (default 60 s). */
  readonly pruneIntervalMs?: number
}

/** Rebinds what the caller brings; the bindings built on those pieces resolve to the caller's. */
const overridesModule = ({ store, clock, logger, secrets, pruneIntervalMs }: Overrides) =>
  overridingModule((b) => {
    if (store) b.value(TYPES.Store, store)
    if (clock) b.value(TYPES.Clock, clock)
    if (logger) b.value(TYPES.Logger, logger)
    if (secrets) b.value(TYPES.SecretsSource, async () => secrets)
    if (pruneIntervalMs !== undefined) b.value(TYPES.PruningSchedule, { intervalMs: pruneIntervalMs })
  })

/** The root for a config: every family's default bindings, then the caller's overrides. */
export const buildContainer = (config: Config, overrides: Overrides = {}): Resolver => {
  const c = new Container({ defaultScope: 'Singleton' })
  c.load(
    configModule(config), loggingModule, cryptoModule, storeModule, identityModule, webApiModule, httpModule, operationsModule,
    overridesModule(overrides),
  )
  return resolverOf(c)
}
