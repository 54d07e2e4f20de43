/**
 * @module core
 * The public surface of the framework-free core: the CRM.COM rules, the ports, the two use cases.
 */
export * from './errors.js'
export * from './release.js'
export * from './request.js'
export * from './credentials.js'
export * from './model.js'
export * from './session.js'
export type * from './ports.js'
export * from './lockout.js'
export * from './issue-session-token.js'
export * from './verify-session-token.js'
export * from './revocation.js'
export * from './release-session.js'
