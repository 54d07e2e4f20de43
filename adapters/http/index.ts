/**
 * @module http
 * What embedding services use: the session middleware, the envelope, the app factory.
 */
export { consumerSession, type SessionMiddlewareOptions, type SessionState } from './session-middleware.js'
export { okEnvelope, errorEnvelope, toHttpFailure, type Envelope, type HttpStatusMode } from './envelope.js'
export { createHttpApp, SESSION_PATH, type HttpAppDeps } from './app.js'
export { TOKEN_PATH } from './token-route.js'
export { readBasicAuth } from './basic-auth.js'
