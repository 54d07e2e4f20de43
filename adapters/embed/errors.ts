/**
 * @module errors
 * The errors an embedder may catch, each with a stable `code` (the message may change between versions; the code
 * and the class do not): bad options, a store that cannot be opened, an import document with problems, and the
 * secrets' own SecretsError (adapters/crypto). None of their messages holds a secret or a URL's password.
 */
export { SecretsError } from '../crypto/secrets-codec.js'

/** Options that do not decode: the message names the option and the rule it broke. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code = 'ERR_CONSUMER_AUTH_CONFIG'
}

/** A store that cannot be opened or migrated (unreachable database, bad URL, a newer schema). */
export class StoreError extends Error {
  override readonly name = 'StoreError'
  readonly code = 'ERR_CONSUMER_AUTH_STORE'
}

/** A provisioning document with problems: nothing was written; `problems` names each entry and field at fault. */
export class ImportError extends Error {
  override readonly name = 'ImportError'
  readonly code = 'ERR_CONSUMER_AUTH_IMPORT'
  constructor(readonly problems: ReadonlyArray<string>) {
    super(`The import document has ${problems.length} problem(s), nothing was written:\n  - ${problems.join('\n  - ')}`)
  }
}

/** The codes, for a `switch` on `error.code`. */
export const errorCodes = {
  config: 'ERR_CONSUMER_AUTH_CONFIG',
  store: 'ERR_CONSUMER_AUTH_STORE',
  import: 'ERR_CONSUMER_AUTH_IMPORT',
  secrets: 'ERR_CONSUMER_AUTH_SECRETS',
} as const
