/**
 * @module modules/web-api
 * The core's use cases, composed over the adapters: issue (with the lock-out limiter and the metrics' audit
 * decorator), verify (with the revocation check the config asks for) and release, and the ring's public keys.
 */
import { attemptLimiter, eitherRevocation, issueSessionToken, releaseSessionToken, sessionRevocationCheck, verifySessionToken } from '../../core/index.js'
import { serviceModule } from '../binder.js'
import { TYPES, type WebApi } from '../services.js'

export const webApiModule = serviceModule((b) => {
  b.async(TYPES.Limiter, async (r) => attemptLimiter(await r.getAsync(TYPES.ServiceStore), r.get(TYPES.LockoutPolicy)))
  b.async(TYPES.WebApi, async (r): Promise<WebApi> => {
    const config = r.get(TYPES.Config)
    const clock = r.get(TYPES.Clock)
    const store = await r.getAsync(TYPES.ServiceStore)
    const { ring } = await r.getAsync(TYPES.KeyRing)
    const audit = (await r.getAsync(TYPES.Metrics)).auditing(store)
    const { cachedRevocationCheck } = await import('../../adapters/store/revocation-cache.js')
    const issue = issueSessionToken({
      release: config.release,
      claimTimes: config.claimTimes,
      clock,
      ids: r.get(TYPES.Ids),
      digest: await r.getAsync(TYPES.Digest),
      hasher: r.get(TYPES.Hasher),
      passCodeQueue: r.get(TYPES.PassCodeQueue),
      directory: store,
      keys: store,
      accessTokens: store,
      identity: await r.getAsync(TYPES.Identity),
      identityLinks: store,
      limiter: await r.getAsync(TYPES.Limiter),
      signer: ring.signer,
      audit,
    })
    // A released session is refused on every request (release is an explicit act; one indexed read, uncached). The
    // full check (key and access token behind the session) asks the store about each session at most once per
    // REVOCATION_CACHE_SECONDS (0: every time), when REVOCATION_CHECK is on.
    const released = sessionRevocationCheck({ ledger: store, keys: store, accessTokens: store }, 'release')
    const revocation = config.revocationCheck
      ? eitherRevocation(released, cachedRevocationCheck(store, clock, config.revocationCacheSeconds))
      : released
    const verify = verifySessionToken({ verifier: ring.verifier, clock, revocation })
    const releaseSession = releaseSessionToken({ verifier: ring.verifier, clock, ledger: store, audit })
    // The JWKS route reads the ring on each request: a reload (SIGHUP) that brings in an ES256 or EdDSA key
    // publishes it at once, and one that leaves only HS256 keys makes the route answer 404 again.
    return { issue, verify, releaseSession, jwks: () => ring.publicJwks() }
  })
})
