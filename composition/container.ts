/**
 * @module container
 * The composition root: inversify binds the core's ports to adapters from a decoded config. Everything is resolved
 * once, at start-up; nothing looks in the container per request.
 */
import { Container, type ServiceIdentifier } from 'inversify'
import type { Logger } from 'pino'
import type Koa from 'koa'
import { dirname, join } from 'node:path'
import {
  issueSessionToken, verifySessionToken, type AttemptLimiter, type Clock, type IdentityVerifier, type IdSource,
  type PassCodeHasher, type SecretDigest,
} from '../core/index.js'
import { storeAttemptLimiter } from '../adapters/attempt-limiter.js'
import { systemClock } from '../adapters/clock.js'
import { hmacDigest } from '../adapters/crypto/hmac-digest.js'
import { createReloadableKeyRing, type KeyRing } from '../adapters/crypto/key-ring.js'
import { scryptHasher } from '../adapters/crypto/scrypt-hasher.js'
import { loadSecrets, type Secrets } from '../adapters/crypto/secrets.js'
import { randomSessionIds } from '../adapters/crypto/session-ids.js'
import { createHttpApp } from '../adapters/http/app.js'
import { createMetrics, type Metrics } from '../adapters/http/metrics.js'
import { openApiDocument, serveOpenApi } from '../adapters/http/openapi.js'
import { identityVerifier } from '../adapters/identity/identity-verifier.js'
import { seedDemoIfEmpty } from '../adapters/provisioning/demo.js'
import { openSqlStore } from '../adapters/sql/open-store.js'
import type { Store } from '../adapters/store.js'
import { isWriteRefusal, StoreNotWritableError, storeReadiness } from '../adapters/store-readiness.js'
import { cachedRevocationCheck } from '../adapters/revocation-cache.js'
import type { Config } from './config.js'
import { createLogger } from './logger.js'
import { packageVersion } from './version.js'

const id = <T>(name: string) => Symbol.for(`consumer-auth.${name}`) as ServiceIdentifier<T>

export const TYPES = {
  Config: id<Config>('Config'),
  Logger: id<Logger>('Logger'),
  Secrets: id<Secrets>('Secrets'),
  Store: id<Store>('Store'),
  Clock: id<Clock>('Clock'),
  Ids: id<IdSource>('Ids'),
  Digest: id<SecretDigest>('Digest'),
  Hasher: id<PassCodeHasher>('Hasher'),
  KeyRing: id<{ ring: KeyRing; reload(): Promise<void> }>('KeyRing'),
  Identity: id<IdentityVerifier>('Identity'),
  Limiter: id<AttemptLimiter>('Limiter'),
  Metrics: id<Metrics>('Metrics'),
  HttpApp: id<Koa>('HttpApp'),
}

/** /health/ready answers within this time even when the store hangs (SPEC 8: no hung requests). */
export const READY_TIMEOUT_MS = 2_000

/** How the database is named in a start-up refusal: the SQLite path, never a PostgreSQL URL (it may hold a password). */
const shownDatabase = (config: Config): string => (config.db.engine === 'sqlite' ? config.db.path : '(PostgreSQL, DATABASE_URL)')

/**
 * The store, opened and migrated, refused (StoreNotWritableError) when it refuses a write (read-only, full, no
 * privilege): the service must not start, and say it is ready, on a database where no token can be issued. Other
 * failures of the probe (a store given unmigrated, a lock held for long) start the service; readiness tells.
 */
const openWritableStore = async (config: Config, given: Store | undefined): Promise<Store> => {
  let store: Store
  try {
    store = given ?? (await openSqlStore(config.db))
  } catch (e) {
    throw isWriteRefusal(e) ? new StoreNotWritableError(shownDatabase(config), e) : e
  }
  try {
    await store.checkWritable()
  } catch (e) {
    if (!isWriteRefusal(e)) return store
    await store.close().catch(() => undefined)
    throw new StoreNotWritableError(shownDatabase(config), e)
  }
  return store
}

/** Where generated secrets live on the embedded default: ./data/secrets.json (beside the default database). */
export const defaultSecretsPath = (config: Config): string | undefined =>
  config.db.engine === 'sqlite' ? join(dirname(config.db.path), 'secrets.json') : join('data', 'secrets.json')

/** Optional replacements, for tests and embedding (a memory store, a test clock, a log destination). */
export interface Overrides {
  readonly store?: Store
  readonly clock?: Clock
  readonly logger?: Logger
  /** How often the pruning job runs (default 60 s). */
  readonly pruneIntervalMs?: number
}

export const secretsFrom = (config: Config) => () =>
  loadSecrets({
    ...(config.secrets === undefined ? {} : { inline: config.secrets }),
    ...(config.secretsFile === undefined ? {} : { file: config.secretsFile }),
    ...(config.production ? {} : { generateInto: defaultSecretsPath(config) }),
    production: config.production,
    generateAlg: config.signingAlg,
  })

export const buildContainer = (config: Config, overrides: Overrides = {}): Container => {
  const c = new Container({ defaultScope: 'Singleton' })
  c.bind(TYPES.Config).toConstantValue(config)
  c.bind(TYPES.Logger).toDynamicValue(() => overrides.logger ?? createLogger(config.logLevel))
  c.bind(TYPES.Secrets).toDynamicValue(secretsFrom(config))
  c.bind(TYPES.Clock).toConstantValue(overrides.clock ?? systemClock)
  c.bind(TYPES.Ids).toConstantValue(randomSessionIds)
  c.bind(TYPES.Hasher).toDynamicValue(() => scryptHasher())
  c.bind(TYPES.Digest).toDynamicValue(async (ctx) => hmacDigest(Buffer.from((await ctx.getAsync(TYPES.Secrets)).pepper, 'base64url')))
  c.bind(TYPES.Store).toDynamicValue(async (ctx) => {
    const store = await openWritableStore(config, overrides.store)
    if (config.demo) {
      const seeded = await seedDemoIfEmpty(store, {
        digest: await ctx.getAsync(TYPES.Digest),
        hasher: ctx.get(TYPES.Hasher),
        clock: ctx.get(TYPES.Clock),
      })
      if (seeded) ctx.get(TYPES.Logger).info({}, 'seeded the documented example (ps_dev); --no-demo turns this off')
    }
    return store
  })
  c.bind(TYPES.KeyRing).toDynamicValue(async (ctx) => {
    const clock = ctx.get(TYPES.Clock)
    return createReloadableKeyRing(secretsFrom(config), clock)
  })
  c.bind(TYPES.Identity).toDynamicValue(async (ctx) => {
    const store = await ctx.getAsync(TYPES.Store)
    return identityVerifier(() => store.listIdentityProviders(), ctx.get(TYPES.Clock), { maxLifetimeSeconds: config.identityMaxLifetimeSeconds })
  })
  c.bind(TYPES.Limiter).toDynamicValue(async (ctx) =>
    storeAttemptLimiter(await ctx.getAsync(TYPES.Store), {
      windowSeconds: config.lockoutWindowSeconds,
      thresholds: { identifier: config.lockoutIdentifierThreshold, key: config.lockoutKeyThreshold, address: config.lockoutAddressThreshold },
    }),
  )
  // One registry per container, so that several services in one process keep separate counts.
  c.bind(TYPES.Metrics).toDynamicValue(() => createMetrics())
  c.bind(TYPES.HttpApp).toDynamicValue(async (ctx) => {
    const store = await ctx.getAsync(TYPES.Store)
    const { ring } = await ctx.getAsync(TYPES.KeyRing)
    const clock = ctx.get(TYPES.Clock)
    const log = ctx.get(TYPES.Logger)
    const metrics = ctx.get(TYPES.Metrics)
    const issue = issueSessionToken({
      release: config.release,
      claimTimes: config.claimTimes,
      clock,
      ids: ctx.get(TYPES.Ids),
      digest: await ctx.getAsync(TYPES.Digest),
      hasher: ctx.get(TYPES.Hasher),
      directory: store,
      keys: store,
      accessTokens: store,
      identity: await ctx.getAsync(TYPES.Identity),
      identityLinks: store,
      limiter: await ctx.getAsync(TYPES.Limiter),
      signer: ring.signer,
      audit: metrics.auditing(store),
    })
    // The revocation check asks the store about each session at most once per REVOCATION_CACHE_SECONDS (0: every time).
    const revocation = config.revocationCheck ? cachedRevocationCheck(store, clock, config.revocationCacheSeconds) : undefined
    const verify = verifySessionToken({ verifier: ring.verifier, clock, ...(revocation ? { revocation } : {}) })
    // The JWKS route exists when the ring holds asymmetric keys at start-up; moving from HS256 to ES256/EdDSA by a
    // key reload (SIGHUP) publishes it after the next restart.
    const jwks = ring.publicJwks().keys.length > 0
    const openapi = openApiDocument({
      basePath: config.basePath, release: config.release, jwks, httpStatus: config.httpStatus, version: packageVersion(),
    })
    return createHttpApp({
      basePath: config.basePath,
      release: config.release,
      httpStatus: config.httpStatus,
      trustProxy: config.trustProxy,
      issue,
      verify,
      log,
      ...(jwks ? { jwks: () => ring.publicJwks() } : {}),
      ready: storeReadiness(store, { timeoutMs: READY_TIMEOUT_MS }),
      observe: metrics.observe,
      extraRoutes: (router) => {
        metrics.route(router)
        serveOpenApi(router, openapi)
      },
    })
  })
  return c
}
