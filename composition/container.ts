/**
 * @module container
 * The composition root, the one wiring of consumer-auth: inversify binds the core's ports to adapters from a decoded
 * config, behind typed service identifiers. `consumer-auth serve` resolves the standalone app from it, every CLI
 * command its store and import dependencies, and createConsumerAuth the embedded middleware, the import and the
 * verifier; a caller that brings its own piece (a store, a clock, a logger, secrets) rebinds that identifier, and
 * everything built on it follows. Everything is resolved once, at start-up; nothing looks in the container per request.
 */
import { Container, type ServiceIdentifier } from 'inversify'
import type { Logger } from 'pino'
import type { Router } from '@koa/router'
import type Koa from 'koa'
import type { Middleware } from 'koa'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { dirname, join } from 'node:path'
import {
  attemptLimiter, eitherRevocation, issueSessionToken, releaseSessionToken, sessionRevocationCheck, verifySessionToken, type AttemptLimiter,
  type AuthError, type Clock, type ConsumerSession, type IdentityVerifier, type IdSource, type IssuedToken, type IssueRequest,
  type PassCodeHasher, type ReleaseRequest, type SecretDigest,
} from '../core/index.js'
import { systemClock } from '../adapters/clock/system-clock.js'
import { hmacDigest } from '../adapters/crypto/hmac-digest.js'
import type { KeyRing } from '../adapters/crypto/key-ring.js'
import { scryptHasher } from '../adapters/crypto/scrypt-hasher.js'
import { boundedVerificationQueue, verificationBounds } from '../adapters/crypto/verification-queue.js'
import { loadSecrets, type Secrets } from '../adapters/crypto/secrets.js'
import { randomSessionIds } from '../adapters/crypto/session-ids.js'
import type { Metrics } from '../adapters/http/metrics.js'
import type { OperationsRoutesDeps } from '../adapters/http/ops-routes.js'
import { seedDemoIfEmpty } from '../adapters/provisioning/demo.js'
import type { ImportDeps } from '../adapters/provisioning/import.js'
import { openStore } from '../adapters/embed/open-store.js'
import { startStoragePruner, type StoragePruner } from '../adapters/store/storage-pruner.js'
import type { Store } from '../adapters/store/store.js'
import { isWriteRefusal, StoreNotWritableError, storeReadiness } from '../adapters/store/store-readiness.js'
import type { Config } from './config.js'
import { createLogger } from './logger.js'
import { packageVersion } from './version.js'

const id = <T>(name: string) => Symbol.for(`consumer-auth.${name}`) as ServiceIdentifier<T>

/** The Web API's use cases and the public keys, as the HTTP adapter takes them. */
export interface WebApi {
  readonly issue: (request: IssueRequest) => TaskEither<AuthError, IssuedToken>
  readonly verify: (token: unknown) => TaskEither<AuthError, ConsumerSession>
  readonly releaseSession: (request: ReleaseRequest) => TaskEither<AuthError, ConsumerSession>
  /** Public keys of the ring's asymmetric keys, read per request (none while the ring is HS256 only). */
  readonly jwks: () => { keys: ReadonlyArray<object> }
}

export const TYPES = {
  Config: id<Config>('Config'),
  Logger: id<Logger>('Logger'),
  /** Where the secrets come from; KeyRing's reload calls it again. */
  SecretsSource: id<() => Promise<Secrets>>('SecretsSource'),
  Secrets: id<Secrets>('Secrets'),
  /** The store as opened (and migrated): what the CLI's commands work on. */
  Store: id<Store>('Store'),
  /** The store the service uses: Store, with the documented example seeded first when `demo` is on. */
  ServiceStore: id<Store>('ServiceStore'),
  Clock: id<Clock>('Clock'),
  Ids: id<IdSource>('Ids'),
  Digest: id<SecretDigest>('Digest'),
  Hasher: id<PassCodeHasher>('Hasher'),
  ImportDeps: id<ImportDeps>('ImportDeps'),
  KeyRing: id<{ ring: KeyRing; reload(): Promise<void> }>('KeyRing'),
  Identity: id<IdentityVerifier>('Identity'),
  Limiter: id<AttemptLimiter>('Limiter'),
  Metrics: id<Metrics>('Metrics'),
  WebApi: id<WebApi>('WebApi'),
  /** The standalone service: the Web API, health, metrics, OpenAPI, on a Koa app of its own. */
  HttpApp: id<Koa>('HttpApp'),
  /** Health, metrics and the OpenAPI document: on the main app, or with OPS_PORT on an app of their own. */
  OperationsRoutes: id<OperationsRoutesDeps>('OperationsRoutes'),
  /** The operations listener's app (OPS_PORT), or null when they are served on the main port. */
  OpsApp: id<Koa | null>('OpsApp'),
  /** The Web API as one middleware for a host's Koa app (createConsumerAuth). */
  EmbeddedMiddleware: id<Middleware>('EmbeddedMiddleware'),
}

/** /health/ready answers within this time even when the store hangs (docs/behaviour.md, the storage rules: no hung requests). */
export const READY_TIMEOUT_MS = 2_000

/** How the database is named in a start-up refusal: the SQLite path, never a PostgreSQL URL (it may hold a password). */
const shownDatabase = (config: Config): string => (config.db.engine === 'sqlite' ? config.db.path : '(PostgreSQL, DATABASE_URL)')

/**
 * The store, opened and migrated, refused (StoreNotWritableError) when it refuses a write (read-only, full, no
 * privilege): the service must not start, and say it is ready, on a database where no token can be issued. Other
 * failures of the probe (a store given unmigrated, a lock held for long) start the service; readiness tells.
 */
const openWritableStore = async (config: Config, given?: Store): Promise<Store> => {
  let store: Store
  try {
    store = given ?? (await openStore(config.db))
  } catch (e) {
    // openStore wraps the driver's error in a StoreError: the refusal is its cause.
    const cause = (e as { cause?: unknown }).cause ?? e
    throw isWriteRefusal(cause) ? new StoreNotWritableError(shownDatabase(config), cause) : e
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

/** Optional replacements, for tests and embedding (a memory store, a test clock, a log destination, secrets). */
export interface Overrides {
  readonly store?: Store
  readonly clock?: Clock
  readonly logger?: Logger
  /** The secrets themselves (e.g. generated for a memory store); instead of the config's secrets, file or generation. */
  readonly secrets?: Secrets
  /** How often the pruning job runs (default 60 s). */
  readonly pruneIntervalMs?: number
}

/** The secrets a config names: inline, a file, or (outside production) generated once into the default path. */
export const secretsFrom = (config: Config, onGenerated?: (path: string) => void) => () =>
  loadSecrets({
    ...(config.secrets === undefined ? {} : { inline: config.secrets }),
    ...(config.secretsFile === undefined ? {} : { file: config.secretsFile }),
    ...(config.production ? {} : { generateInto: defaultSecretsPath(config) }),
    production: config.production,
    generateAlg: config.signingAlg,
    ...(onGenerated ? { onGenerated } : {}),
  })

/** The default bindings for a config: the pieces the standalone service uses. */
const bindDefaults = (c: Container, config: Config): void => {
  c.bind(TYPES.Config).toConstantValue(config)
  c.bind(TYPES.Logger).toDynamicValue(() => createLogger(config.logLevel))
  c.bind(TYPES.SecretsSource).toDynamicValue((ctx) =>
    secretsFrom(config, (path) =>
      ctx.get(TYPES.Logger).info({ path }, `generated the secrets (signing key ring and digest pepper) into ${path}: keep the file, back it up, give it as SECRETS_FILE in production`)),
  )
  c.bind(TYPES.Secrets).toDynamicValue((ctx) => ctx.get(TYPES.SecretsSource)())
  c.bind(TYPES.Clock).toConstantValue(systemClock)
  c.bind(TYPES.Ids).toConstantValue(randomSessionIds)
  c.bind(TYPES.Hasher).toDynamicValue(() => scryptHasher())
  c.bind(TYPES.Digest).toDynamicValue(async (ctx) => hmacDigest(Buffer.from((await ctx.getAsync(TYPES.Secrets)).pepper, 'base64url')))
  c.bind(TYPES.ImportDeps).toDynamicValue(async (ctx) => ({
    digest: await ctx.getAsync(TYPES.Digest),
    hasher: ctx.get(TYPES.Hasher),
    clock: ctx.get(TYPES.Clock),
  }))
  c.bind(TYPES.Store).toDynamicValue(() => openWritableStore(config))
  c.bind(TYPES.ServiceStore).toDynamicValue(async (ctx) => {
    const store = await ctx.getAsync(TYPES.Store)
    if (config.demo && (await seedDemoIfEmpty(store, await ctx.getAsync(TYPES.ImportDeps)))) {
      ctx.get(TYPES.Logger).info({}, 'seeded the documented example (ps_dev); --no-demo turns this off')
    }
    return store
  })
  // The service's pieces are imported when first resolved: the CLI's commands, which resolve only the store and the
  // import dependencies, then load neither Koa nor jose nor the metrics registry.
  c.bind(TYPES.KeyRing).toDynamicValue(async (ctx) => {
    const { createReloadableKeyRing } = await import('../adapters/crypto/key-ring.js')
    // The first ring is built from the secrets already loaded; a reload (SIGHUP) asks their source again.
    const source = ctx.get(TYPES.SecretsSource)
    let first: Promise<Secrets> | undefined = ctx.getAsync(TYPES.Secrets)
    const load = () => {
      const next = first ?? source()
      first = undefined
      return next
    }
    return createReloadableKeyRing(load, ctx.get(TYPES.Clock))
  })
  c.bind(TYPES.Identity).toDynamicValue(async (ctx) => {
    const { identityVerifier } = await import('../adapters/identity/identity-verifier.js')
    const store = await ctx.getAsync(TYPES.ServiceStore)
    return identityVerifier(() => store.listIdentityProviders(), ctx.get(TYPES.Clock), { maxLifetimeSeconds: config.identityMaxLifetimeSeconds })
  })
  c.bind(TYPES.Limiter).toDynamicValue(async (ctx) =>
    attemptLimiter(await ctx.getAsync(TYPES.ServiceStore), {
      windowSeconds: config.lockoutWindowSeconds,
      thresholds: { identifier: config.lockoutIdentifierThreshold, key: config.lockoutKeyThreshold, address: config.lockoutAddressThreshold },
    }),
  )
  // One registry per container, so that several services in one process keep separate counts.
  c.bind(TYPES.Metrics).toDynamicValue(async () => (await import('../adapters/http/metrics.js')).createMetrics())
  c.bind(TYPES.WebApi).toDynamicValue(async (ctx): Promise<WebApi> => {
    const store = await ctx.getAsync(TYPES.ServiceStore)
    const { ring } = await ctx.getAsync(TYPES.KeyRing)
    const clock = ctx.get(TYPES.Clock)
    const metrics = await ctx.getAsync(TYPES.Metrics)
    const audit = metrics.auditing(store)
    const { cachedRevocationCheck } = await import('../adapters/store/revocation-cache.js')
    const issue = issueSessionToken({
      release: config.release,
      claimTimes: config.claimTimes,
      clock,
      ids: ctx.get(TYPES.Ids),
      digest: await ctx.getAsync(TYPES.Digest),
      hasher: ctx.get(TYPES.Hasher),
      passCodeQueue: boundedVerificationQueue(verificationBounds({ capacity: config.passCodeQueue, concurrency: config.passCodeConcurrency })),
      directory: store,
      keys: store,
      accessTokens: store,
      identity: await ctx.getAsync(TYPES.Identity),
      identityLinks: store,
      limiter: await ctx.getAsync(TYPES.Limiter),
      signer: ring.signer,
      audit,
    })
    // A released session is refused on every request (release is an explicit act; one indexed read, uncached). The
    // full check (key and access token behind the session) asks the store about each session at most once per
    // REVOCATION_CACHE_SECONDS (0: every time), when REVOCATION_CHECK is on.
    const released = sessionRevocationCheck({ ledger: store, keys: store, accessTokens: store }, 'release')
    const revocation = config.revocationCheck
      ? eitherRevocation(released, cachedRevocationCheck(store, clock, config.revocationCacheSeconds))
      : released
    const verify = verifySessionToken({ verifier: ring.verifier, clock, revocation })
    const releaseSession = releaseSessionToken({ verifier: ring.verifier, clock, ledger: store, audit })
    // The JWKS route reads the ring on each request: a reload (SIGHUP) that brings in an ES256 or EdDSA key
    // publishes it at once, and one that leaves only HS256 keys makes the route answer 404 again.
    return { issue, verify, releaseSession, jwks: () => ring.publicJwks() }
  })
  c.bind(TYPES.HttpApp).toDynamicValue(async (ctx) => {
    const webApi = await ctx.getAsync(TYPES.WebApi)
    const metrics = await ctx.getAsync(TYPES.Metrics)
    const { createHttpApp } = await import('../adapters/http/app.js')
    return createHttpApp({
      ...webApi,
      basePath: config.basePath,
      release: config.release,
      httpStatus: config.httpStatus,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      log: ctx.get(TYPES.Logger),
      observer: metrics.observeRequest,
      ...(await ctx.getAsync(TYPES.OperationsRoutes)),
      operationsElsewhere: config.opsPort !== undefined,
    })
  })
  c.bind(TYPES.OperationsRoutes).toDynamicValue(async (ctx) => {
    const store = await ctx.getAsync(TYPES.ServiceStore)
    const metrics = await ctx.getAsync(TYPES.Metrics)
    const { openApiDocument, serveOpenApi } = await import('../adapters/http/openapi.js')
    const openapi = openApiDocument({
      basePath: config.basePath, release: config.release, jwks: true, httpStatus: config.httpStatus, version: packageVersion(),
    })
    const ready = storeReadiness(store, { timeoutMs: READY_TIMEOUT_MS })
    metrics.watchReadiness(ready)
    return {
      ready,
      extraRoutes: (router: Router) => {
        metrics.route(router)
        serveOpenApi(router, openapi)
      },
    }
  })
  c.bind(TYPES.OpsApp).toDynamicValue(async (ctx) => {
    if (config.opsPort === undefined) return null
    const { createOperationsApp } = await import('../adapters/http/ops-routes.js')
    return createOperationsApp({ ...(await ctx.getAsync(TYPES.OperationsRoutes)), httpStatus: config.httpStatus, log: ctx.get(TYPES.Logger) })
  })
  c.bind(TYPES.EmbeddedMiddleware).toDynamicValue(async (ctx) => {
    const { embeddedWebApi } = await import('../adapters/http/embedded.js')
    return embeddedWebApi({
      ...(await ctx.getAsync(TYPES.WebApi)),
      basePath: config.basePath,
      release: config.release,
      httpStatus: config.httpStatus,
      log: ctx.get(TYPES.Logger),
    })
  })
}

/**
 * The storage pruning job (old audit events, expired attempt counters) on the service's store, as `serve` and
 * createConsumerAuth run it; its runs are logged, its failures tried again on the next run.
 */
export const startPruner = (c: Container, store: Store, intervalMs?: number): StoragePruner => {
  const config = c.get(TYPES.Config)
  const log = c.get(TYPES.Logger)
  return startStoragePruner(store, {
    retentionDays: config.auditRetentionDays,
    lockoutWindowSeconds: config.lockoutWindowSeconds,
    clock: c.get(TYPES.Clock),
    ...(intervalMs === undefined ? {} : { intervalMs }),
    onRun: (outcome) =>
      'error' in outcome
        ? log.warn({ err: outcome.error }, 'storage pruning failed; the next run tries again')
        : log.info(outcome, 'storage pruned'),
  })
}

/** Rebinds what the caller brings; the bindings built on those pieces resolve to the caller's. */
const rebindOverrides = (c: Container, overrides: Overrides): void => {
  const { store, clock, logger, secrets } = overrides
  // A store of the caller's is held to the same rule as one opened here: it must accept a write.
  if (store) c.rebind(TYPES.Store).toDynamicValue(() => openWritableStore(c.get(TYPES.Config), store))
  if (clock) c.rebind(TYPES.Clock).toConstantValue(clock)
  if (logger) c.rebind(TYPES.Logger).toConstantValue(logger)
  if (secrets) c.rebind(TYPES.SecretsSource).toConstantValue(async () => secrets)
}

export const buildContainer = (config: Config, overrides: Overrides = {}): Container => {
  const c = new Container({ defaultScope: 'Singleton' })
  bindDefaults(c, config)
  rebindOverrides(c, overrides)
  return c
}
