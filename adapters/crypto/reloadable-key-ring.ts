/**
 * @module reloadable-key-ring
 * A key ring that can be replaced while the service runs (key rotation without a restart, e.g. on SIGHUP):
 * one stable KeyRing object, handed to the use cases once, that delegates to whichever ring is current.
 */
import type { Clock } from '../../core/index.js'
import { createKeyRing, type KeyRing } from './create-key-ring.js'
import type { Secrets } from './secrets-codec.js'

export interface ReloadableKeyRing {
  /** Stable: keep it; it always signs and verifies with the latest ring that loaded. */
  readonly ring: KeyRing
  /**
   * Loads the secrets again and swaps the ring in once it is fully imported. On failure the current ring stays in
   * place and the Promise rejects (with a SecretsError that names no secret), so a bad file never stops service.
   */
  reload(): Promise<void>
}

export const createReloadableKeyRing = async (
  load: () => Promise<Pick<Secrets, 'signingKeys' | 'activeKid'>>,
  clock: Clock,
): Promise<ReloadableKeyRing> => {
  let current = await createKeyRing(await load(), clock)
  const ring: KeyRing = {
    signer: { sign: (claims) => current.signer.sign(claims) },
    verifier: { verify: (token) => current.verifier.verify(token) },
    get activeKid() {
      return current.activeKid
    },
    get alg() {
      return current.alg
    },
    publicJwks: () => current.publicJwks(),
  }
  // Reloads run one after another, each reading the secrets afresh, so the last one asked for wins.
  let queue: Promise<void> = Promise.resolve()
  const reload = (): Promise<void> => {
    const next = queue.then(async () => {
      current = await createKeyRing(await load(), clock)
    })
    queue = next.catch(() => undefined)
    return next
  }
  return { ring, reload }
}
