/**
 * @module http
 * What embedding services use: the session middleware, the envelope, the app factory; and, to accept session tokens
 * without running consumer-auth, createSessionVerifier (key ring, secrets file or published JWKS) with its pieces.
 */
export { consumerSession, type SessionMiddlewareOptions, type SessionState } from './session-middleware.js'
export { okEnvelope, errorEnvelope, toHttpFailure, type Envelope, type HttpStatusMode } from './envelope.js'
export { createHttpApp, routeTable, SESSION_PATH, type HttpAppDeps, type RouteEntry } from './app.js'
export { TOKEN_PATH } from './token-route.js'
export { readBasicAuth } from './basic-auth.js'
export {
  createSessionVerifier, type CreateSessionVerifierOptions, type EmbeddedSessionVerifier, type SessionKeySource,
} from '../embed/session-verifier.js'
export { cachedRevocationCheck, type RevocationCacheOptions } from '../store/revocation-cache.js'
export { jwksSessionVerifier, JWKS_ALGORITHMS, type JwksSessionVerifierOptions } from '../crypto/jwks-session-verifier.js'
export { createKeyRing, type KeyRing } from '../crypto/create-key-ring.js'
export { createReloadableKeyRing, type ReloadableKeyRing } from '../crypto/reloadable-key-ring.js'
export type { ConsumerSession, RevocationCheck, Clock } from '../../core/index.js'
export { createMetrics, METRICS_PATH, type Metrics, type MetricsOptions } from './metrics.js'
export { openApiDocument, serveOpenApi, OPENAPI_PATH, type OpenApiOptions } from './openapi.js'
