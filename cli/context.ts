/**
 * @module context
 * The plumbing every store command shares: the --db and secrets options, decoded with the service's own config
 * rules (composition/config.ts), the store opened (and migrated) and closed, and the digest and hasher built from
 * the deployment's pepper, loaded exactly as `serve` loads it (composition/container.ts), so that a key created
 * here is the key the server finds.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Clock } from '../core/index.js'
import { decodeConfig, settings, type Config } from '../composition/config.js'
import { systemClock } from '../adapters/clock/system-clock.js'
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

/** --db and the secrets options over DATABASE_URL, SECRETS_FILE, CONSUMER_AUTH_SECRETS, decoded as `serve` does. */
export const storeConfig = (args: Parsed, io: CliIo): Config => {
  const env: NodeJS.ProcessEnv = {}
  for (const name of storeEnv) if (io.env[name] !== undefined) env[name] = io.env[name]
  const flags = {
    [settings.db.flag]: str(args, 'db'),
    [settings.secretsFile.flag]: str(args, 'secrets-file'),
    [settings.secrets.flag]: str(args, 'secrets'),
  }
  const decoded = decodeConfig(env, flags)
  if (E.isLeft(decoded)) throw new UsageError(decoded.left)
  return decoded.right
}

export interface StoreContext {
  readonly config: Config
  readonly store: Store
  readonly clock: Clock
  /** The digest (with the deployment's pepper), the hasher and the clock; loads the secrets on first use only. */
  importDeps(): Promise<ImportDeps>
}

/**
 * Opens (and migrates) the store named by the options, runs `work`, and closes the store whatever happens. The store
 * is opened by the function the composition root binds (openStore); the import dependencies (digest with the
 * deployment's pepper, hasher, clock) are resolved from the composition root itself, with this store bound in,
 * loaded only by the commands that need them (inversify and pino cost a list command a fifth of a second).
 */
export const withStore = async (args: Parsed, io: CliIo, work: (ctx: StoreContext) => Promise<number>): Promise<number> => {
  const config = storeConfig(args, io)
  const { openStore } = await import('../adapters/embed/open-store.js')
  const store = await openStore(config.db)
  const importDeps = async (): Promise<ImportDeps> => {
    const { buildContainer, TYPES } = await import('../composition/container.js')
    return buildContainer(config, { store, clock: systemClock }).getAsync(TYPES.ImportDeps)
  }
  let deps: Promise<ImportDeps> | undefined
  try {
    return await work({ config, store, clock: systemClock, importDeps: () => (deps ??= importDeps()) })
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
