/**
 * @module load-secrets
 * Where the deployment's secrets come from at start-up (docs/operations.md, docs/configuration.md): inline JSON (an environment variable) over a
 * file; on the embedded default without either, a file generated on first start (mode 0600) and reused after;
 * in production, without either, no start at all.
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateSecrets } from './generate-secrets.js'
import { decodeSecrets, SecretsError, type Secrets, type SigningAlgorithm } from './secrets-codec.js'

export interface LoadSecretsOptions {
  /** A path to a secrets JSON file (e.g. `SECRETS_FILE`). */
  readonly file?: string
  /** The secrets JSON itself (e.g. `CONSUMER_AUTH_SECRETS`); wins over `file`. */
  readonly inline?: string
  /** Where to keep generated secrets when none are given outside production, e.g. `./data/secrets.json`. */
  readonly generateInto?: string
  /** Production never generates: secrets that exist only on one disk would break every other instance. */
  readonly production: boolean
  /** The algorithm of a generated ring (HS256 by default). */
  readonly generateAlg?: SigningAlgorithm
  /** Told when secrets were generated (to log where; the secrets themselves are not passed). */
  readonly onGenerated?: (path: string) => void
}

const errorCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined

/** The file's text, or undefined when it does not exist; the file's name is said in errors, never its content. */
const readText = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8')
  } catch (e) {
    const code = errorCode(e)
    if (code === 'ENOENT') return undefined
    throw new SecretsError(`The secrets file ${path} cannot be read (${code ?? 'unknown error'})`)
  }
}

const readSecretsFile = async (path: string): Promise<Secrets> => {
  const text = await readText(path)
  if (text === undefined) throw new SecretsError(`The secrets file ${path} does not exist`)
  return decodeSecrets(text, `the file ${path}`)
}

/**
 * Writes new secrets to `path` unless it exists, atomically: the document goes to a private temporary file first
 * and is then hard-linked into place, which fails if the name exists. Two instances starting together thus never
 * read a half-written file, and never both write: the loser reads the winner's secrets.
 */
const generateOnce = async (path: string, alg: SigningAlgorithm): Promise<{ readonly secrets: Secrets; readonly generated: boolean }> => {
  const secrets = await generateSecrets(alg)
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    // The modes are set explicitly: the umask could otherwise take bits away (never add them, but 0700 and 0600 are meant).
    const created = await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    if (created !== undefined) await chmod(created, 0o700)
    await writeFile(temp, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    await chmod(temp, 0o600)
    await link(temp, path)
    return { secrets, generated: true }
  } catch (e) {
    if (errorCode(e) === 'EEXIST') return { secrets: await readSecretsFile(path), generated: false }
    throw new SecretsError(`Secrets cannot be written to ${path} (${errorCode(e) ?? 'unknown error'})`)
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

export const loadSecrets = async (opts: LoadSecretsOptions): Promise<Secrets> => {
  if (opts.inline !== undefined && opts.inline.trim() !== '') return decodeSecrets(opts.inline, 'the inline secrets (CONSUMER_AUTH_SECRETS)')
  if (opts.file !== undefined && opts.file.trim() !== '') return readSecretsFile(opts.file)
  if (opts.production) {
    throw new SecretsError(
      'No secrets are configured, and in production they are never generated: give the signing key ring and the digest pepper ' +
        'as JSON in CONSUMER_AUTH_SECRETS, or as a file in SECRETS_FILE',
    )
  }
  if (opts.generateInto === undefined) {
    throw new SecretsError('No secrets are configured: give them in CONSUMER_AUTH_SECRETS or SECRETS_FILE')
  }
  const path = opts.generateInto
  // Only a missing file is generated; a present but broken one is the operator's to fix, never overwritten.
  const existing = await readText(path)
  if (existing !== undefined) return decodeSecrets(existing, `the file ${path}`)
  const { secrets, generated } = await generateOnce(path, opts.generateAlg ?? 'HS256')
  if (generated) opts.onGenerated?.(path)
  return secrets
}
