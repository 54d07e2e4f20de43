/** Plain-object fakes of the ports that import needs (the digest and the clock are test/support/doubles.ts). */
import { createHash, randomBytes } from 'node:crypto'
import type { PassCodeHasher } from '../../core/index.js'
import type { ImportDeps } from '../../adapters/provisioning/import.js'
import { fakeDigest, testClock } from '../support/doubles.js'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')

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

export const fakeDeps = (): ImportDeps & { hasher: ReturnType<typeof fakeHasher> } => ({
  digest: fakeDigest,
  hasher: fakeHasher(),
  clock: testClock(1_700_000_000),
})
