/**
 * @module modules/identity
 * The identity family: the verifier of third-party identity JWTs, over the identity providers the store holds.
 * Imported when first resolved (it brings in jose).
 */
import { serviceModule } from '../binder.js'
import { TYPES } from '../services.js'

export const identityModule = serviceModule((b) => {
  b.async(TYPES.Identity, async (r) => {
    const { identityVerifier } = await import('../../adapters/identity/identity-verifier.js')
    const store = await r.getAsync(TYPES.ServiceStore)
    return identityVerifier(() => store.listIdentityProviders(), r.get(TYPES.Clock), {
      maxLifetimeSeconds: r.get(TYPES.Config).identityMaxLifetimeSeconds,
    })
  })
})
