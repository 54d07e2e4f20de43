/**
 * @module file-modes
 * The start-up warning about a secrets file that others can read (docs/security.md, "Files and modes"): the file
 * holds the pepper and the signing keys, so anyone who reads it can forge sessions and check guessed codes against a
 * copied database. The warning names the file and its mode, never its content.
 */
import { statSync } from 'node:fs'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { defaultSecretsPath } from './modules/crypto.js'

/** The secrets file the service reads, if it reads one (inline secrets win over any file). */
const secretsFileOf = (config: Config): string | undefined => {
  if (config.secrets !== undefined) return undefined
  return config.secretsFile ?? (config.production ? undefined : defaultSecretsPath(config))
}

export const warnIfSecretsFileOpen = (config: Config, log: Pick<Logger, 'warn'>): void => {
  const path = secretsFileOf(config)
  if (path === undefined) return
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch {
    return
  }
  if ((mode & 0o077) !== 0) {
    log.warn({ path, mode: mode.toString(8).padStart(4, '0') }, 'the secrets file can be read or written by group or others: chmod 600 it')
  }
}
