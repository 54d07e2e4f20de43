/**
 * @module consumer-auth
 * createConsumerAuth(options): the issuer embedded in a host's Koa app, the counterpart of createSessionVerifier.
 * Its options are the service's own settings (config.ts), decoded eagerly by the same table, so a bad value fails
 * here, naming its option; it is built by the composition root `consumer-auth serve` uses (container.ts), so the
 * routes answer exactly as the standalone service's do.
 *
 * What is the host's, not ours: the client address is the host's `ctx.ip` (set `app.proxy` in the host to believe
 * X-Forwarded-For; there is no trustProxy option), the request log, metrics and health routes.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Middleware } from 'koa'
import type { Logger } from 'pino'
import { isPlainObject } from '../core/codec.js'
import { nearestName, type Clock } from '../core/index.js'
import { generateSecrets } from '../adapters/crypto/generate-secrets.js'
import type { Secrets } from '../adapters/crypto/secrets-codec.js'
import { ConfigError, ImportError } from '../adapters/embed/errors.js'
import { openStore } from '../adapters/embed/open-store.js'
import type { EmbeddedSessionVerifier } from '../adapters/embed/session-verifier.js'
import type { ImportDocument } from '../adapters/provisioning/import-document.js'
import { importDocument, type ImportSummary } from '../adapters/provisioning/import.js'
import type { Store } from '../adapters/store/store.js'
import { decodeConfig, settings, type Config, type Setting } from './config.js'
import { buildContainer, type Overrides } from './container.js'
import { TYPES } from './services.js'

/** The lock-out thresholds and their window (see docs/security.md); each defaults as in the service. */
export interface LockoutOptions {
  readonly windowSeconds?: number
  readonly identifierThreshold?: number
  readonly keyThreshold?: number
  readonly addressThreshold?: number
}

export interface ConsumerAuthOptions {
  /** `sqlite:PATH`, `postgres://...`, `memory:` (a fresh memory store), or a store object (which stays yours to close). */
  readonly db: string | Store
  /** The secrets JSON (text or object: the signing key ring and the digest pepper). */
  readonly secrets?: string | Secrets
  /** consumer-auth's secrets file. Without secrets or secretsFile: generated once into ./data/secrets.json (beside a SQLite file), never in production; for `memory:` kept in memory. */
  readonly secretsFile?: string
  /** The CRM.COM release implemented, e.g. `R16.2.0` (the default). */
  readonly release?: string
  /** Path prefix of the routes (default `/crmapi/rest/v2`); the JWKS is served at `{basePath}/.well-known/jwks.json`. */
  readonly basePath?: string
  readonly claimTimes?: 'number' | 'string'
  readonly httpStatus?: 'standard' | 'envelope'
  readonly lockout?: LockoutOptions
  /** Seed the documented example (organisation ps_dev) into an empty store. Default false (the service's is true). */
  readonly demo?: boolean
  /** Algorithm of generated secrets (a given ring keeps its own). */
  readonly signingAlg?: 'HS256' | 'ES256' | 'EdDSA'
  /** Refuse, on the session route and in `verifier`, sessions whose key or access token was revoked since. */
  readonly revocationCheck?: boolean
  readonly revocationCacheSeconds?: number
  /** Days audit events are kept (default 90); older ones are pruned in small batches while the issuer runs. */
  readonly auditRetentionDays?: number
  /** A pino logger of the host's, or a level for one of ours (default `info`). */
  readonly logger?: Logger
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Now, in seconds (tests). */
  readonly clock?: Clock
}

export interface ConsumerAuth {
  /** Koa middleware: the token route, the session route and the JWKS under basePath; every other request goes to `next`. */
  middleware(): Middleware
  /** Imports a provisioning document (all or nothing); rejects with an ImportError naming every problem. */
  import(document: ImportDocument): Promise<ImportSummary>
  /** A session verifier on the same keys and store (revocation included). */
  readonly verifier: EmbeddedSessionVerifier
  /** Closes the store it opened (a store object passed in is left open). */
  close(): Promise<void>
}

type SettingName = keyof typeof settings

/** Each option that is a setting, by the setting's name; `lockout` by its members. */
const scalarOptions = {
  release: 'release', basePath: 'basePath', claimTimes: 'claimTimes', httpStatus: 'httpStatus', demo: 'demo',
  secretsFile: 'secretsFile', signingAlg: 'signingAlg', revocationCheck: 'revocationCheck',
  revocationCacheSeconds: 'revocationCacheSeconds', logLevel: 'logLevel', auditRetentionDays: 'auditRetentionDays',
} as const satisfies Record<string, SettingName>
const lockoutOptions = {
  windowSeconds: 'lockoutWindowSeconds', identifierThreshold: 'lockoutIdentifierThreshold',
  keyThreshold: 'lockoutKeyThreshold', addressThreshold: 'lockoutAddressThreshold',
} as const satisfies Record<string, SettingName>
const objectOptions = ['db', 'secrets', 'lockout', 'logger', 'clock'] as const
const knownOptions = [...Object.keys(scalarOptions), ...objectOptions]

/** Options of the service that belong to the host here, with what to do instead. */
const hostOwned: Readonly<Record<string, string>> = {
  trustProxy: "the client address is the host's ctx.ip: set the host app's `proxy` (and `maxIpsCount`) instead",
  port: 'the host app listens; consumer-auth only answers its routes',
  host: 'the host app listens; consumer-auth only answers its routes',
}

const optionName = new Map<string, string>([
  ...Object.entries(scalarOptions).map(([o, s]) => [settings[s].flag, o] as const),
  ...Object.entries(lockoutOptions).map(([o, s]) => [settings[s].flag, `lockout.${o}`] as const),
  [settings.db.flag, 'db'],
  [settings.secrets.flag, 'secrets'],
])
const byOption = (s: Setting<unknown>) => `option ${optionName.get(s.flag) ?? s.flag}`

const fail = (message: string): never => {
  throw new ConfigError(`createConsumerAuth: ${message}`)
}

/** An option's value as the settings' text: the one table then decides whether it is valid. */
const asText = (name: string, value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : fail(`option ${name} must be text, a number or a boolean`)

const isStore = (u: unknown): u is Store =>
  isPlainObject(u) && ['findKeyByDigest', 'findOrganisation', 'isRevoked', 'transaction', 'close'].every((m) => typeof u[m] === 'function')

/** The options as the service's Config (decoded by config.ts's table), and what the container takes as given. */
const decodeOptions = (options: unknown): { readonly config: Config; readonly store?: Store; readonly memory: boolean } => {
  if (!isPlainObject(options)) return fail('options must be an object, e.g. { db: "sqlite:./data/consumer-auth.db" }')
  for (const name of Object.keys(options)) {
    if (hostOwned[name]) fail(`there is no option ${name}: ${hostOwned[name]}`)
    if (!knownOptions.includes(name)) {
      const near = nearestName(name, knownOptions)
      fail(`unknown option ${JSON.stringify(name)}${near ? ` (did you mean "${near}"?)` : ''}`)
    }
  }
  const flags: Record<string, string> = {}
  for (const [option, setting] of Object.entries(scalarOptions)) {
    if (options[option] !== undefined) flags[settings[setting].flag] = asText(option, options[option])
  }
  const lockout = options['lockout']
  if (lockout !== undefined) {
    if (!isPlainObject(lockout)) fail('option lockout must be an object, e.g. { keyThreshold: 100 }')
    for (const name of Object.keys(lockout as object)) {
      const setting = lockoutOptions[name as keyof typeof lockoutOptions]
      if (setting === undefined) {
        const near = nearestName(name, Object.keys(lockoutOptions))
        fail(`unknown option lockout.${name}${near ? ` (did you mean "lockout.${near}"?)` : ''}`)
      }
      const value = (lockout as Record<string, unknown>)[name]
      if (value !== undefined) flags[settings[setting].flag] = asText(`lockout.${name}`, value)
    }
  }
  const secrets = options['secrets']
  if (secrets !== undefined) flags[settings.secrets.flag] = typeof secrets === 'string' ? secrets : isPlainObject(secrets) ? JSON.stringify(secrets) : fail('option secrets must be the secrets JSON, as text or an object')
  // The embedder's demo is opt-in: a known key seeded into a host's database by default would be a hole.
  flags[settings.demo.flag] ??= 'false'
  const db = options['db']
  const memory = db === 'memory:'
  if (typeof db === 'string' && !memory) flags[settings.db.flag] = db
  else if (db !== undefined && !memory && !isStore(db)) fail('option db must be sqlite:PATH, a postgres:// URL, memory:, or a store object')
  else if (db === undefined) fail('option db is required: sqlite:PATH, a postgres:// URL, memory:, or a store object')
  // Only NODE_ENV is read from the environment (production: secrets never generated); the rest are the options.
  const env = process.env['NODE_ENV'] === undefined ? {} : { NODE_ENV: process.env['NODE_ENV'] }
  const decoded = decodeConfig(env, flags, byOption)
  if (E.isLeft(decoded)) return fail(decoded.left)
  return { config: decoded.right, ...(isStore(db) ? { store: db } : {}), memory }
}

export const createConsumerAuth = async (options: ConsumerAuthOptions): Promise<ConsumerAuth> => {
  const { config, store: given, memory } = decodeOptions(options)
  const keepsNoSecrets = config.secrets === undefined && config.secretsFile === undefined
  const overrides: Overrides = {
    ...(given ? { store: given } : memory ? { store: await openStore('memory:') } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    // A memory store forgets its keys with the process: so may its secrets (nothing is written to disk).
    ...(memory && keepsNoSecrets ? { secrets: await generateSecrets(config.signingAlg) } : {}),
  }
  const root = buildContainer(config, overrides)
  const store = await root.getAsync(TYPES.ServiceStore)
  try {
    const middleware = await root.getAsync(TYPES.EmbeddedMiddleware)
    const importDeps = await root.getAsync(TYPES.ImportDeps)
    const verifier = await root.getAsync(TYPES.SessionVerifier)
    // Audit events and attempt counters are pruned as the service prunes them; close() stops it.
    const pruner = await root.getAsync(TYPES.Pruner)
    return {
      middleware: () => middleware,
      import: async (document) => {
        const r = await importDocument(store, document, importDeps)
        if (E.isLeft(r)) throw new ImportError(r.left)
        return r.right
      },
      verifier,
      close: async () => {
        await pruner.stop()
        if (!given) await store.close()
      },
    }
  } catch (e) {
    if (!given) await store.close().catch(() => undefined)
    throw e
  }
}
