/**
 * @module services
 * The composition root's vocabulary: typed service identifiers, and the two typed views of inversify that every
 * module uses, one to bind (Binder) and one to resolve (Resolver).
 *
 * inversify's own identifiers are plain symbols: `get` of a service bound to an async factory compiles, and fails
 * only when run. Here each identifier says how its value is made. A `SyncService` is bound to a value or to a
 * factory that answers the value itself, and may be read with `get`; an `AsyncService` is bound to a factory that
 * answers a promise, and can only be read with `getAsync`. So `get` of an async service, a sync factory that
 * returns a promise, or a sync factory that waits for an async service, are type errors.
 *
 * Types and identifiers only: a CLI command names a service without loading inversify (binder.ts binds them).
 */
import type { Logger } from 'pino'
import type Koa from 'koa'
import type { Middleware } from 'koa'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type {
  AttemptLimiter, AuthError, Clock, ConsumerSession, IdentityVerifier, IdSource, IssuedToken, IssueRequest, LockoutPolicy,
  PassCodeHasher, ReleaseRequest, SecretDigest, VerificationQueue,
} from '../core/index.js'
import type { ReloadableKeyRing } from '../adapters/crypto/reloadable-key-ring.js'
import type { Secrets } from '../adapters/crypto/secrets-codec.js'
import type { EmbeddedSessionVerifier } from '../adapters/embed/session-verifier.js'
import type { Metrics } from '../adapters/http/metrics.js'
import type { OperationsRoutesDeps } from '../adapters/http/ops-routes.js'
import type { ImportDeps } from '../adapters/provisioning/import.js'
import type { StoragePruner } from '../adapters/store/storage-pruner.js'
import type { Store } from '../adapters/store/store.js'
import type { Config } from './config.js'

declare const made: unique symbol

/** A service whose value is at hand: bound to a value or a synchronous factory; `get` and `getAsync` read it. */
export type SyncService<T> = symbol & { readonly [made]: 'sync'; readonly type?: (t: T) => T }
/** A service built by an async factory (it opens, loads or imports something): only `getAsync` reads it. */
export type AsyncService<T> = symbol & { readonly [made]: 'async'; readonly type?: (t: T) => T }
export type Service<T> = SyncService<T> | AsyncService<T>

const syncService = <T>(name: string) => Symbol.for(`consumer-auth.${name}`) as SyncService<T>
const asyncService = <T>(name: string) => Symbol.for(`consumer-auth.${name}`) as AsyncService<T>

/** How a factory, and a caller of the root, reads the services. */
export interface Resolver {
  get<T>(service: SyncService<T>): T
  getAsync<T>(service: Service<T>): Promise<T>
}

/** How a module binds its services; the overrides rebind through the same view. */
export interface Binder {
  /** A value known when the container is built. */
  value<T>(service: Service<T>, value: T): void
  sync<T>(service: SyncService<T>, make: (r: Resolver) => T): void
  async<T>(service: AsyncService<T>, make: (r: Resolver) => Promise<T>): void
}

/** The Web API's use cases and the public keys, as the HTTP adapter takes them. */
export interface WebApi {
  readonly issue: (request: IssueRequest) => TaskEither<AuthError, IssuedToken>
  readonly verify: (token: unknown) => TaskEither<AuthError, ConsumerSession>
  readonly releaseSession: (request: ReleaseRequest) => TaskEither<AuthError, ConsumerSession>
  /** Public keys of the ring's asymmetric keys, read per request (none while the ring is HS256 only). */
  readonly jwks: () => { keys: ReadonlyArray<object> }
}

/** Every service of the root, by family (the modules under modules/ bind them). */
export const TYPES = {
  // config (modules/config.ts)
  Config: syncService<Config>('Config'),
  Clock: syncService<Clock>('Clock'),
  LockoutPolicy: syncService<LockoutPolicy>('LockoutPolicy'),
  // logging (modules/logging.ts)
  Logger: syncService<Logger>('Logger'),
  // crypto and signing (modules/crypto.ts)
  /** The secrets file the config names, else the embedded default's (beside the SQLite file): what `secrets` edits. */
  SecretsFile: syncService<string>('SecretsFile'),
  /** Where the secrets come from; KeyRing's reload calls it again. */
  SecretsSource: syncService<() => Promise<Secrets>>('SecretsSource'),
  Secrets: asyncService<Secrets>('Secrets'),
  Digest: asyncService<SecretDigest>('Digest'),
  Hasher: syncService<PassCodeHasher>('Hasher'),
  Ids: syncService<IdSource>('Ids'),
  PassCodeQueue: syncService<VerificationQueue>('PassCodeQueue'),
  KeyRing: asyncService<ReloadableKeyRing>('KeyRing'),
  // store and provisioning (modules/store.ts)
  /** The store as opened (and migrated): what the CLI's commands work on. */
  Store: asyncService<Store>('Store'),
  /** Store, refused (StoreNotWritableError) when it does not accept a write: the service must not start on it. */
  WritableStore: asyncService<Store>('WritableStore'),
  /** The store the service uses: WritableStore, with the documented example seeded first when `demo` is on. */
  ServiceStore: asyncService<Store>('ServiceStore'),
  /** The digest (with the deployment's pepper), the hasher and the clock: what an import needs. */
  ImportDeps: asyncService<ImportDeps>('ImportDeps'),
  // identity (modules/identity.ts)
  Identity: asyncService<IdentityVerifier>('Identity'),
  // the use cases (modules/web-api.ts)
  Limiter: asyncService<AttemptLimiter>('Limiter'),
  WebApi: asyncService<WebApi>('WebApi'),
  // http (modules/http.ts)
  /** The standalone service: the Web API, health, metrics, OpenAPI, on a Koa app of its own. */
  HttpApp: asyncService<Koa>('HttpApp'),
  /** The Web API as one middleware for a host's Koa app (createConsumerAuth). */
  EmbeddedMiddleware: asyncService<Middleware>('EmbeddedMiddleware'),
  /** createConsumerAuth's `verifier`: the service's keys (its secrets file re-read by reload) and store. */
  SessionVerifier: asyncService<EmbeddedSessionVerifier>('SessionVerifier'),
  // operations and metrics (modules/operations.ts)
  /** One registry per container, so that several services in one process keep separate counts. */
  Metrics: asyncService<Metrics>('Metrics'),
  /** Health, metrics and the OpenAPI document: on the main app, or with OPS_PORT on an app of their own. */
  OperationsRoutes: asyncService<OperationsRoutesDeps>('OperationsRoutes'),
  /** The operations listener's app (OPS_PORT), or null when they are served on the main port. */
  OpsApp: asyncService<Koa | null>('OpsApp'),
  /** How often the pruning job runs (its default, 60 s, unless a test asks for less). */
  PruningSchedule: syncService<{ readonly intervalMs?: number }>('PruningSchedule'),
  /** The storage pruning job on the service's store, started when first resolved; stop() ends it. */
  Pruner: asyncService<StoragePruner>('Pruner'),
}
