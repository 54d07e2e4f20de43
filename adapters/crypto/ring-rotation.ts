/**
 * @module ring-rotation
 * Changes to the signing key ring of a secrets document, as `consumer-auth secrets` makes them: stage a new key, make
 * a key the active one (the one before retires, and keeps verifying its tokens until they have expired), drop keys
 * whose tokens have all expired; and writing the document back atomically (mode 0600). Every change is checked with
 * the ring's own rules before it is written; the pepper is never changed (it keys every digest in the database).
 */
import { randomBytes } from 'node:crypto'
import { rename, unlink, writeFile } from 'node:fs/promises'
import { generateSigningKey } from './generate-secrets.js'
import { checkRing, SecretsError, type Secrets, type SigningAlgorithm, type SigningKeySpec } from './secrets-codec.js'
import { retiredKeyLifetimeSeconds } from './signing-key.js'

const activeKey = (s: Secrets): SigningKeySpec => s.signingKeys.find((k) => k.kid === s.activeKid)!

/** Adds a new key (of `alg`, default the active key's) that verifies but does not sign yet. */
export const stageKey = async (s: Secrets, alg?: SigningAlgorithm): Promise<{ secrets: Secrets; kid: string }> => {
  const key = await generateSigningKey(alg ?? activeKey(s).alg)
  if (s.signingKeys.some((k) => k.kid === key.kid)) throw new SecretsError(`A key with the new kid ${key.kid} exists already; run the command again`)
  return { secrets: { ...s, signingKeys: [...s.signingKeys, key] }, kid: key.kid }
}

/** Makes `kid` the active key; the key active before is retired at `nowSeconds`. */
export const activateKey = (s: Secrets, kid: string, nowSeconds: number): Secrets => {
  const key = s.signingKeys.find((k) => k.kid === kid)
  if (!key) throw new SecretsError(`No key of the ring has kid ${JSON.stringify(kid)}`, s.signingKeys.map((k) => `${k.kid} (${k.alg})`))
  if (key.retiredAt !== undefined) throw new SecretsError(`The key ${kid} is retired: a retired key never signs again; rotate to a new key instead`)
  if (kid === s.activeKid) return s
  const signingKeys = s.signingKeys.map((k) => (k.kid === s.activeKid ? { ...k, retiredAt: nowSeconds } : k))
  const next = { ...s, signingKeys, activeKid: kid }
  checkRing(next)
  return next
}

/** Drops the retired keys whose tokens have all expired (retired more than a session lifetime plus tolerance ago). */
export const pruneKeys = (s: Secrets, nowSeconds: number): { secrets: Secrets; dropped: ReadonlyArray<string> } => {
  const expired = (k: SigningKeySpec) => k.retiredAt !== undefined && k.retiredAt + retiredKeyLifetimeSeconds <= nowSeconds
  const dropped = s.signingKeys.filter(expired).map((k) => k.kid)
  return { secrets: { ...s, signingKeys: s.signingKeys.filter((k) => !expired(k)) }, dropped }
}

/**
 * Replaces the file in one step: the document goes to a private temporary file beside it (mode 0600) and is renamed
 * over the old one, so a reader (a server reloading on SIGHUP) sees the old document or the new one, never half.
 */
export const writeSecretsFile = async (path: string, s: Secrets): Promise<void> => {
  checkRing(s)
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    await rename(temp, path)
  } catch (e) {
    await unlink(temp).catch(() => undefined)
    throw new SecretsError(`The secrets file ${path} cannot be written (${(e as NodeJS.ErrnoException).code ?? 'unknown error'})`)
  }
}
