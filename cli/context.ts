/**
 * @module context
 * The plumbing every store command shares: the --db and secrets options, decoded with the service's own config
 * rules (composition/config.ts), and the composition root `serve` uses (composition/container.ts) built on them:
 * the store it opens (and migrates), closed after the command, the clock, the lock-out policy, and the digest and
 * hasher with the deployment's pepper, so that a key created here is the key the server finds.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Clock, LockoutPolicy } from '../core/index.js'
import { decodeConfig, settings, type Config, type Setting } from '../composition/config.js'
import { TYPES, type Resolver } from '../composition/services.js'
import type { ImportDeps } from '../adapters/provisioning/import.js'
import type { Store } from '../adapters/store/store.js'
import { str, UsageError, type CliIo, type OptionSpec, type Parsed } from './kit.js'

export const dbOption: Record<string, OptionSpec> = {
  db: { type: 'string', value: 'URL', help: `${settings.db.help} (default: $DATABASE_URL, else ${settings.db.default})` },
}

export const storeOptions: Record<string, OptionSpec> = {
  ...dbOption,
  'secrets-file': {
    type: 'string', value: 'FILE',
    help: `${settings.secretsFile.help} (default: $${settings.secretsFile.env}; else generated beside the SQLite file outside production)`,
  },
  secrets: { type: 'string', value: 'JSON', help: `${settings.secrets.help} (default: $${settings.secrets.env})` },
}

export const jsonOption: Record<string, OptionSpec> = { json: { type: 'boolean', help: 'print JSON instead of text' } }

/** The environment variables the store commands read; the server's other settings do not concern them. */
const storeEnv = [settings.db.env, settings.secretsFile.env, settings.secrets.env, 'NODE_ENV'] as const

/**
 * --db and the secrets options over DATABASE_URL, SECRETS_FILE, CONSUMER_AUTH_SECRETS, decoded as `serve` does; and
 * the environment variables of the other settings a command reads (`also`), so that a bad one of those fails only it.
 */
export const storeConfig = (args: Parsed, io: CliIo, also: ReadonlyArray<Setting<unknown>> = []): Config => {
  const env: NodeJS.ProcessEnv = {}
  for (const name of [...storeEnv, ...also.map((s) => s.env)]) if (io.env[name] !== undefined) env[name] = io.env[name]
  const flags = {
    [settings.db.flag]: str(args, 'db'),
    [settings.secretsFile.flag]: str(args, 'secrets-file'),
    [settings.secrets.flag]: str(args, 'secrets'),
  }
  const decoded = decodeConfig(env, flags)
  if (E.isLeft(decoded)) throw new UsageError(decoded.left)
  return decoded.right
}

/**
 * The composition root for the options, loaded on demand: inversify is imported by the commands that use it, so
 * that `--help` and a bad option answer without it.
 */
export const cliRoot = async (config: Config): Promise<Resolver> => (await import('../composition/container.js')).buildContainer(config)

export interface StoreContext {
  readonly config: Config
  readonly store: Store
  readonly clock: Clock
  /** The thresholds and window, as `serve` reads them (from the settings given in `withStore`'s `also`). */
  readonly lockoutPolicy: LockoutPolicy
  /** The digest (with the deployment's pepper), the hasher and the clock; loads the secrets on first use only. */
  importDeps(): Promise<ImportDeps>
}

/** Opens (and migrates) the store the root binds, runs `work`, and closes the store whatever happens. */
export const withStore = async (
  args: Parsed, io: CliIo, work: (ctx: StoreContext) => Promise<number>, also: ReadonlyArray<Setting<unknown>> = [],
): Promise<number> => {
  const config = storeConfig(args, io, also)
  const root = await cliRoot(config)
  const store = await root.getAsync(TYPES.Store)
  try {
    return await work({
      config, store, clock: root.get(TYPES.Clock), lockoutPolicy: root.get(TYPES.LockoutPolicy), importDeps: () => root.getAsync(TYPES.ImportDeps),
    })
  } finally {
    await store.close()
  }
}

/**
 * The digests a KEY_OR_DIGEST argument may stand for: the digest of the value taken as a key, and the value itself
 * when it has the shape of a digest (64 hex characters, as `keys list` shows them).
 */
export const keyDigestCandidates = async (ctx: StoreContext, given: string): Promise<ReadonlyArray<string>> => {
  const value = given.trim()
  const { digest } = await ctx.importDeps()
  return [digest.digest(value), ...(/^[0-9a-fA-F]{64}$/.test(value) ? [value.toLowerCase()] : [])]
}
