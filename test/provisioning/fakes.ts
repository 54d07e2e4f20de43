/** Plain-object fakes of the ports that import needs, and the SPEC 9 example document. */
import { createHash, randomBytes } from 'node:crypto'
import type { Clock, PassCodeHasher, SecretDigest } from '../../core/index.js'
import type { ImportDeps } from '../../adapters/provisioning/import.js'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')

/** Deterministic keyed digest (not the real HMAC, but never the clear text). */
export const fakeDigest: SecretDigest = { digest: (s) => sha256(`pepper\u0000${s}`) }

/** Salted like the real one, so a re-hash differs from the stored hash; cheap. */
export const fakeHasher = (): PassCodeHasher & { hashes: number } => {
  const h = {
    hashes: 0,
    hash: async (p: string) => {
      h.hashes++
      const salt = randomBytes(8).toString('hex')
      return `fake$${salt}$${sha256(salt + p)}`
    },
    verify: async (p: string, stored: string) => {
      const [, salt, hash] = stored.split('$')
      return salt !== undefined && sha256(salt + p) === hash
    },
    verifyDummy: async () => false as const,
  }
  return h
}

export const fixedClock = (now = 1_700_000_000): Clock => ({ nowSeconds: () => now })

export const fakeDeps = (): ImportDeps & { hasher: ReturnType<typeof fakeHasher> } => ({
  digest: fakeDigest,
  hasher: fakeHasher(),
  clock: fixedClock(),
})

/** SPEC 9's example, verbatim. */
export const specExample = () => ({
  organisations: [{ id: 'ps_dev', name: 'PS Dev', consumer_user: 'maytemplate' }],
  units: [{ organisation: 'ps_dev', id: '1', name: 'Head office' }],
  users: [{ organisation: 'ps_dev', username: 'maytemplate', default_unit: '1', units: ['1'] }],
  web_api_keys: [{ organisation: 'ps_dev', user: 'maytemplate', key: 'EE73C0AE64524371B5DDEFF5F7BB2192',
    classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' }],
  consumers: [{ organisation: 'ps_dev', contact_information_id: '2695FED3FCFD4084AB39F44B18889123',
    accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC' }],
  access_tokens: [
    { organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC',
      authentication_code: 'p_kestora1!', state: 'EFFECTIVE' },
    { organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC',
      identifier: 'maria', pass_code: '4711', state: 'EFFECTIVE',
      valid_from: '2026-01-01T00:00:00Z', valid_to: null }],
  identity_providers: [{ issuer: 'https://id.example.com', audience: 'crm', jwks: { keys: [] } }],
  identity_links: [{ issuer: 'https://id.example.com', subject: 'u-42', organisation: 'ps_dev',
    accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC' }],
})

/** The secrets that appear in the example, which must never come back out. */
export const exampleSecrets = ['EE73C0AE64524371B5DDEFF5F7BB2192', 'p_kestora1!', '4711']
